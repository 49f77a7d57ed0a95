"""What went wrong with a connection to an MQTT broker, in the terms both MQTT clients of the
appliance report it (the integrations and the upstream bridge): a metrics kind and a line."""

from __future__ import annotations

import ssl
from typing import Final

from aiomqtt.exceptions import MqttConnectError

AUTH_CODES: Final = frozenset({4, 5, 134, 135})  # bad user name or password / not authorised


def describe_failure(error: BaseException, *, fallback: str) -> tuple[str, str]:
    """``(kind, message)`` of an aiomqtt, socket or TLS failure; ``fallback`` starts the
    message of anything not recognised (kind ``closed``)."""
    text = str(error) or type(error).__name__
    if isinstance(error, MqttConnectError):
        code = getattr(error.rc, "value", error.rc)
        kind = "auth" if code in AUTH_CODES else "refused"
        return kind, f"broker refused the connection: {text}"
    lowered = text.lower()
    if isinstance(error, ssl.SSLError) or "ssl" in lowered or "certificate" in lowered:
        return "tls", f"TLS failed: {text}"
    if "timed out" in lowered:
        return "timeout", f"broker did not answer: {text}"
    if "name or service" in lowered or "name resolution" in lowered or "nodename" in lowered:
        return "dns", f"cannot resolve the broker: {text}"
    if "refused" in lowered:
        return "refused", f"broker unreachable: {text}"
    return "closed", f"{fallback}: {text}"
