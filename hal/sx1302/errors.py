"""What can go wrong with a concentrator, each error saying whose fault and which step.

``Sx1302Error`` (a ``BackendError``)
 +-- ``TransportError``   the SPI device or the USB bridge failed or answered garbage
 +-- ``StartError``       a step of the start sequence failed or timed out (``step`` names it)
 +-- ``FirmwareError``    an AGC/ARB image is missing, has the wrong size or an unknown checksum
 +-- ``ProfileError``     a board profile or global_conf.json is invalid (``BackendConfigError``)
"""

from __future__ import annotations

from hal.backend import BackendConfigError, BackendError


class Sx1302Error(BackendError):
    """The concentrator cannot do what was asked; the message says why."""


class TransportError(Sx1302Error):
    """The bus to the chip failed, or the chip's bridge answered something unexpected."""


class StartError(Sx1302Error):
    """A named step of the start sequence failed."""

    def __init__(self, step: str, reason: str) -> None:
        super().__init__(f"start failed at '{step}': {reason}")
        self.step = step
        self.reason = reason


class FirmwareError(Sx1302Error):
    """An MCU firmware image cannot be used."""


class ProfileError(BackendConfigError):
    """A board profile or a global_conf.json is invalid; the message names the file and key."""
