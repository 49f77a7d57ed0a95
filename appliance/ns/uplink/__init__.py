"""Uplink flows: data frames and joins."""
