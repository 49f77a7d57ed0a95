"""Region names, MAC versions and regional-parameter revisions in the appliance's terms."""

from __future__ import annotations

from appliance.lorawan.errors import InvalidValueError
from appliance.lorawan.regions import get_region

MAC_VERSIONS = ("1.0.0", "1.0.1", "1.0.2", "1.0.3", "1.0.4", "1.1.0")
RP002_REVISIONS = tuple(f"RP002-1.0.{n}" for n in range(5))

# The Things Network's regional-parameters names that ChirpStack folds into revision A or B.
_RP001_REVISIONS = {
    "TS001-1.0": "A",
    "TS001-1.0.1": "A",
    "RP001-1.0.2": "A",
    "RP001-1.0.2-RevB": "B",
    "RP001-1.0.3-RevA": "A",
    "RP001-1.1-RevA": "A",
    "RP001-1.1-RevB": "B",
}
# The Things Network's "AS923" band stands for the four AS923 frequency groups.
_AS923_GROUPS = ("AS923-1", "AS923-2", "AS923-3", "AS923-4")
_CN470_PLANS = ("CN470-20A", "CN470-20B", "CN470-26A", "CN470-26B")


class UnsupportedValueError(Exception):
    """A value the appliance cannot take; the message says why, on one line."""


def regions(name: str, *, ttn: bool) -> tuple[str, ...]:
    """The appliance regions a repository's band name stands for."""
    if ttn and name.strip().upper() == "AS923":
        return _AS923_GROUPS
    if name.strip().upper().replace("_", "-") in ("CN470", "CN470-510"):
        raise UnsupportedValueError(
            f"region {name} has four channel plans here ({', '.join(_CN470_PLANS)}) and the file "
            "does not say which"
        )
    try:
        return (get_region(name).name,)
    except InvalidValueError as exc:
        raise UnsupportedValueError(str(exc)) from None


def mac_version(value: str) -> str:
    text = value.strip()
    if text in ("1.0", "1.1"):
        text += ".0"
    if text not in MAC_VERSIONS:
        raise UnsupportedValueError(
            f"unknown LoRaWAN MAC version {value!r} (known: {', '.join(MAC_VERSIONS)})"
        )
    return text


def reg_params_revision(value: str) -> str:
    text = value.strip()
    if text in ("A", "B") or text in RP002_REVISIONS:
        return text
    if text in _RP001_REVISIONS:
        return _RP001_REVISIONS[text]
    raise UnsupportedValueError(f"unknown regional-parameters revision {value!r}")
