"""The interface every radio source implements, and the registry that builds them by name.

A backend is started, yields events (uplinks, stats, gateway connects/disconnects) through an
async iterator, transmits downlinks and answers with their acknowledgement, and accepts a
channel configuration. Several run at once; the appliance merges their event streams.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any, Protocol, runtime_checkable

from hal.model import BackendEvent, DownlinkFrame, DownlinkTxAck, GatewayConfiguration


class BackendError(Exception):
    """A backend cannot start or cannot do what was asked (the message says why)."""


class BackendConfigError(BackendError):
    """A backend's configuration is invalid; the message names the option."""


@runtime_checkable
class Backend(Protocol):
    """A source and sink of radio frames."""

    @property
    def name(self) -> str:
        """A label for logs and metrics, e.g. ``semtech-udp`` or ``basic-station``."""
        ...

    async def start(self) -> None:
        """Open sockets/devices; raises ``BackendError`` when it cannot."""
        ...

    async def stop(self) -> None:
        """Close everything; the event iterator then ends."""
        ...

    def events(self) -> AsyncIterator[BackendEvent]:
        """Uplinks, statistics and gateway connection changes, in arrival order."""
        ...

    async def send_downlink(self, frame: DownlinkFrame) -> DownlinkTxAck:
        """Transmit through the gateway named in ``frame``; the acknowledgement says which item
        was sent or why each was refused. Never raises for a refused transmission."""
        ...

    async def configure(self, configuration: GatewayConfiguration) -> None:
        """Apply a channel plan to one gateway (where the source supports it)."""
        ...


BackendFactory = Callable[[Mapping[str, Any]], Backend]

_registry: dict[str, BackendFactory] = {}


def register_backend(kind: str, factory: BackendFactory) -> None:
    """Make ``kind`` available to configurations (``[[backends]] kind = "..."``)."""
    if kind in _registry and _registry[kind] is not factory:
        raise BackendError(f"backend kind {kind!r} is registered twice")
    _registry[kind] = factory


def backend_kinds() -> tuple[str, ...]:
    return tuple(sorted(_registry))


def create_backend(kind: str, options: Mapping[str, Any]) -> Backend:
    """Build a backend from its kind and its options; unknown kinds name the known ones."""
    factory = _registry.get(kind)
    if factory is None:
        known = ", ".join(backend_kinds()) or "none"
        raise BackendConfigError(f"unknown backend kind {kind!r} (known: {known})")
    return factory(options)
