"""Payload codecs: Cayenne LPP, sandboxed JavaScript codecs and device-repository import."""
