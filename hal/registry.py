"""Every backend kind the appliance ships, registered by importing its package here.

``hal.backend`` holds the registry itself; this module is the one place that loads the
built-in kinds, so a configuration can name any of them.
"""

from __future__ import annotations

import hal.basic_station
import hal.concentratord
import hal.semtech_udp
import hal.sx1302
import hal.virtual_radio  # noqa: F401 - each import registers its kind
from hal.backend import Backend, backend_kinds, create_backend

__all__ = ["Backend", "backend_kinds", "create_backend"]
