"""Router-info: where a station learns the URI of its data connection (``/router-info``).

The station sends ``{"router": <EUI in any form>}`` and expects ``{"router": id6, "muxs": id6,
"uri": "ws(s)://host:port/gateway/<id>"}`` or an ``error`` field, after which it retries later.
``muxs`` names the LNS process serving it; there is one, so it echoes the router's ID6.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final
from urllib.parse import unquote

from appliance.lorawan.errors import InvalidValueError
from appliance.lorawan.identifiers import EUI64
from hal.basic_station.eui import format_id6, parse_eui

ROUTER_INFO_PATH: Final = "/router-info"
GATEWAY_PATH_PREFIX: Final = "/gateway/"
# Host headers are the station's own text; anything beyond a host name, an IPv4/IPv6 literal and
# a port is not put into the URI we hand back.
_SAFE_HOST: Final = re.compile(r"[A-Za-z0-9.\-]+(:\d{1,5})?|\[[0-9A-Fa-f:.]+\](:\d{1,5})?")


@dataclass(frozen=True, slots=True)
class RouterInfoAnswer:
    gateway_id: EUI64 | None  # None when the request named no valid EUI
    text: str
    accepted: bool


def gateway_path(gateway_id: EUI64) -> str:
    return f"{GATEWAY_PATH_PREFIX}{gateway_id}"


def gateway_from_path(path: str) -> EUI64 | None:
    """The EUI of a ``/gateway/<id>`` path (any EUI form, percent-encoded or not), else None."""
    path = path.split("?", 1)[0]
    if not path.startswith(GATEWAY_PATH_PREFIX):
        return None
    try:
        return parse_eui(unquote(path[len(GATEWAY_PATH_PREFIX) :]))
    except InvalidValueError:
        return None


def safe_host(host: str | None, fallback: str) -> str:
    return host if host is not None and _SAFE_HOST.fullmatch(host) else fallback


def answer_router_info(
    text: str | bytes,
    *,
    base_uri: str,
    refuse: Callable[[EUI64], str | None],
) -> RouterInfoAnswer:
    """Answer a router-info request; ``refuse`` gives an error text for a gateway, or None.

    ``base_uri`` is ``ws://host:port`` or ``wss://host:port`` as the station reached us.
    """
    try:
        request = json.loads(text)
    except (ValueError, RecursionError):
        return RouterInfoAnswer(None, json.dumps({"error": "request is not JSON"}), False)
    router = request.get("router") if isinstance(request, dict) else None
    try:
        gateway_id = parse_eui(router)
    except InvalidValueError as exc:
        return RouterInfoAnswer(None, json.dumps({"router": None, "error": str(exc)}), False)
    id6 = format_id6(gateway_id)
    error = refuse(gateway_id)
    if error is not None:
        return RouterInfoAnswer(gateway_id, json.dumps({"router": id6, "error": error}), False)
    uri = f"{base_uri}{gateway_path(gateway_id)}"
    answer = {"router": id6, "muxs": id6, "uri": uri}
    return RouterInfoAnswer(gateway_id, json.dumps(answer), True)
