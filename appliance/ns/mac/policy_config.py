"""The ``[mac]`` table of appliance.toml as a ``MACPolicy``: which MAC commands the network
server originates on its own, and with what settings (docs/network-server.md lists the keys).

Every key is checked by name and type, so a typo or a quoted number is refused with the key's
dotted name instead of being ignored; the value ranges are the policy classes' own checks.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Mapping
from typing import Any

from appliance.lorawan.errors import InvalidValueError
from appliance.ns.mac.context import (
    ADRAckParams,
    ForceRejoin,
    MACPolicy,
    PingSlotChannel,
    RejoinParams,
    TxParams,
)

# The policy's sub-tables, by key.
_TABLES: dict[str, type] = {
    "tx_params": TxParams,
    "rejoin": RejoinParams,
    "ping_slot": PingSlotChannel,
    "adr_ack": ADRAckParams,
    "force_rejoin": ForceRejoin,
}


class MACPolicyError(ValueError):
    """A ``[mac]`` value that cannot be used; the message starts with its dotted key."""


def mac_policy_from_mapping(table: Mapping[str, Any]) -> MACPolicy:
    values: dict[str, Any] = {}
    for key, value in _fields(MACPolicy, table, "mac").items():
        if key in _TABLES:
            if not isinstance(value, Mapping):
                raise MACPolicyError(f"mac.{key}: must be a table")
            values[key] = _build(
                _TABLES[key], _fields(_TABLES[key], value, f"mac.{key}"), f"mac.{key}"
            )
        elif key == "dl_channels":
            values[key] = _dl_channels(value)
        else:
            values[key] = value
    return _build(MACPolicy, values, "mac")


def _fields(cls: type, table: Mapping[str, Any], where: str) -> dict[str, Any]:
    """``table`` checked against the fields of ``cls``: known keys, values of their type."""
    hints = typing.get_type_hints(cls)
    known = {field.name for field in dataclasses.fields(cls) if field.init}
    checked = {}
    for key, value in table.items():
        if key not in known:
            raise MACPolicyError(f"{where}.{key}: unknown key (known: {', '.join(sorted(known))})")
        if key not in _TABLES and key != "dl_channels":
            _check_type(f"{where}.{key}", value, hints[key])
        checked[key] = value
    return checked


def _check_type(name: str, value: Any, hint: Any) -> None:
    wanted = {t for t in typing.get_args(hint) or (hint,) if t is not type(None)}
    if bool in wanted:
        if not isinstance(value, bool):
            raise MACPolicyError(f"{name}: must be true or false, got {value!r}")
    elif int in wanted and (not isinstance(value, int) or isinstance(value, bool)):
        raise MACPolicyError(f"{name}: must be an integer, got {value!r}")


def _dl_channels(value: Any) -> dict[int, int]:
    """``{ "3" = 868500000 }``: TOML keys are strings; uplink channel index -> Hz."""
    if not isinstance(value, Mapping):
        raise MACPolicyError("mac.dl_channels: must be a table of channel index = frequency")
    channels = {}
    for index, frequency in value.items():
        name = f"mac.dl_channels.{index}"
        if not str(index).isdigit() or not 0 <= int(index) <= 95:
            raise MACPolicyError(f"{name}: the key must be an uplink channel index, 0..95")
        if isinstance(frequency, bool) or not isinstance(frequency, int) or frequency <= 0:
            raise MACPolicyError(f"{name}: must be a frequency in Hz, got {frequency!r}")
        channels[int(index)] = frequency
    return channels


_T = typing.TypeVar("_T")


def _build(cls: type[_T], values: dict[str, Any], where: str = "") -> _T:
    try:
        return cls(**values)
    except InvalidValueError as exc:
        raise MACPolicyError(f"{where or 'mac'}: {exc}") from None
    except TypeError as exc:  # a required key left out
        missing = str(exc).split(":")[-1].strip()
        raise MACPolicyError(f"{where or 'mac'}: missing {missing}") from None
