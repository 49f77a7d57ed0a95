"""The exceptions of the protocol core, in one place.

    LoRaWANError
    ├── InvalidValueError (also ValueError)  a value is out of range: a bad EUI, key, field
    ├── FrameError                           bytes from the network are not a valid frame
    │   └── MACCommandError                  a MAC-command sequence is malformed
    └── EncodeError                          we asked to build something the protocol forbids

The split says whose fault it is: a ``FrameError`` is the sender's (a device or gateway sent
garbage, count it and move on), an ``EncodeError`` is ours (a bug or an impossible request).
"""

from __future__ import annotations


class LoRaWANError(Exception):
    """Base of every error raised by ``appliance.lorawan``."""


class InvalidValueError(LoRaWANError, ValueError):
    """A value does not fit its type (wrong length, out of range, not hex...)."""


class FrameError(LoRaWANError):
    """Bytes received from the network do not decode to a valid LoRaWAN frame."""


class MACCommandError(FrameError):
    """A MAC-command sequence cannot be decoded."""


class EncodeError(LoRaWANError):
    """A frame or command cannot be encoded as requested (e.g. FOpts longer than 15 bytes)."""
