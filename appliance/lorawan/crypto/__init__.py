"""Byte-level LoRaWAN cryptography. Most callers want ``appliance.lorawan.security`` instead."""
