"""The simulator's exceptions, in one place.

    SimulatorError
    ├── DeviceConfigError (also ValueError)   a device configuration cannot be simulated
    └── SnapshotError (also ValueError)       a snapshot is malformed or belongs to another device

Frames the network sends are never a reason to raise: ``EndDevice.on_downlink`` answers a bad
frame with a refusal that says what was wrong, as a real device silently drops it.
"""

from __future__ import annotations


class SimulatorError(Exception):
    """Base of every error raised by ``appliance.devicesim``."""


class DeviceConfigError(SimulatorError, ValueError):
    """The configuration is inconsistent or asks for something the simulator does not model."""


class SnapshotError(SimulatorError, ValueError):
    """A snapshot cannot be restored: wrong format, wrong device, or values out of range."""
