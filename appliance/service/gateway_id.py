"""This gateway's ID when no concentrator EUI is at hand: the EUI-64 of its Ethernet MAC.

The EUI-48 to EUI-64 mapping inserts FF FE between the OUI and the device part, the same ID a
Semtech packet forwarder derives from the MAC, so the appliance's own radio and a forwarder on
the same Pi agree. Interfaces are read from sysfs; wired ones are preferred because a Wi-Fi
MAC may be randomised.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from appliance.lorawan.identifiers import EUI64

_MAC = re.compile(r"[0-9a-f]{2}(?::[0-9a-f]{2}){5}")
_ARPHRD_ETHER = "1"


@dataclass(frozen=True, slots=True)
class GatewayIdentity:
    gateway_id: EUI64
    source: str  # how it was found, for the person reading the config


def eui64_from_mac(mac: str) -> EUI64:
    text = mac.strip().lower()
    if not _MAC.fullmatch(text):
        raise ValueError(f"not a MAC address: {mac!r}")
    octets = text.split(":")
    return EUI64("".join((*octets[:3], "ff", "fe", *octets[3:])))


def identity_from_mac(sys_class_net: Path = Path("/sys/class/net")) -> GatewayIdentity | None:
    """From the first physical Ethernet interface (eth*/end*/en*), else any physical one."""
    candidates: list[tuple[int, str, str]] = []
    for interface in sorted(sys_class_net.iterdir()) if sys_class_net.is_dir() else ():
        mac = _physical_mac(interface)
        if mac is None:
            continue
        wired = interface.name.startswith(("eth", "en"))
        candidates.append((0 if wired else 1, interface.name, mac))
    if not candidates:
        return None
    _, name, mac = min(candidates)
    return GatewayIdentity(eui64_from_mac(mac), f"MAC {mac} of {name}")


def _physical_mac(interface: Path) -> str | None:
    # Virtual interfaces (lo, bridges, veth, docker0) have no "device" link to a bus device.
    if not (interface / "device").exists():
        return None
    try:
        kind = (interface / "type").read_text().strip()
        mac = (interface / "address").read_text().strip().lower()
    except OSError:
        return None
    if kind != _ARPHRD_ETHER or not _MAC.fullmatch(mac) or mac == "00:00:00:00:00:00":
        return None
    return mac
