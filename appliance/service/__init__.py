"""Running as a system service: systemd readiness and watchdog, devices, first-boot setup.

The appliance process uses ``ServiceNotifier`` and ``run_watchdog``; ``appliance setup`` and
``appliance service`` use the rest (docs/deployment.md).
"""

from appliance.service.notify import ServiceNotifier
from appliance.service.watchdog import run_watchdog

__all__ = ["ServiceNotifier", "run_watchdog"]
