"""The embedded LoRaWAN network server: devices, sessions, the uplink/join/downlink flows."""
