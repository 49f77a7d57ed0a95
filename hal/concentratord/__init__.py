"""ChirpStack Concentratord over ZeroMQ as a backend (both protocol generations).

``wire`` builds and reads Concentratord's messages without sockets; ``ConcentratordBackend``
runs them over pyzmq, which is imported only when the backend starts (it is the optional extra
``concentratord``). Importing this package registers the backend kind ``concentratord``. See
``docs/concentratord.md``.
"""

from collections.abc import Mapping
from typing import Any

from hal.backend import Backend, register_backend
from hal.concentratord.backend import BACKEND_NAME, ConcentratordBackend
from hal.concentratord.options import ConcentratordOptions, WireProtocol
from hal.concentratord.wire import DroppedEvent, DropReason, decode_event


def _factory(options: Mapping[str, Any]) -> Backend:
    return ConcentratordBackend(options)


register_backend(BACKEND_NAME, _factory)

__all__ = [
    "ConcentratordBackend",
    "ConcentratordOptions",
    "DropReason",
    "DroppedEvent",
    "WireProtocol",
    "decode_event",
]
