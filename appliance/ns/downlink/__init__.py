"""Downlink planning: receive windows, gateway choice, frame sizing."""
