"""The LoRaWAN protocol core: pure code (no I/O, no clock reads) used by every other part.

Wire formats, cryptography, MAC commands, regional parameters and time-on-air live here; the
network server and the gateway links import this package, never the reverse.
"""
