"""LoRaWAN edge gateway appliance: network and application server and gateway links, one process."""

from __future__ import annotations

__version__ = "0.1.0"
