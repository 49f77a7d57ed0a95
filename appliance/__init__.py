"""LoRaWAN edge gateway appliance: network server, application server and gateway links in one process."""

from __future__ import annotations

__version__ = "0.1.0"
