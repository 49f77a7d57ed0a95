"""Cloud brokers with their own rules: AWS IoT Core and Azure IoT Hub.

AWS IoT Core: MQTT over TLS on port 8883 of the account's endpoint
(``<prefix>-ats.iot.<region>.amazonaws.com``); the client authenticates with an X.509
certificate and its key, registered to a *thing*, and connects with the thing's name as client
ID. Topics are free, so the appliance keeps ChirpStack's layout. QoS 2 is not supported.

Azure IoT Hub: MQTT over TLS to ``<hub>.azure-devices.net:8883`` as one *device*: client ID
the device ID, user name ``<hub>.azure-devices.net/<device>/?api-version=2021-04-12`` and a
shared access signature (SAS token) as password, or an X.509 client certificate instead.
Telemetry goes to ``devices/<device>/messages/events/<properties>``, cloud-to-device messages
arrive on ``devices/<device>/messages/devicebound/<properties>``. QoS 2 and retained messages
are not supported. A SAS token expires: the connection is renewed before it does.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass, field
from typing import Final
from urllib.parse import quote_plus

AZURE_API_VERSION: Final = "2021-04-12"
AZURE_DOMAIN: Final = ".azure-devices.net"
AWS_MAX_MESSAGE_BYTES: Final = 128 * 1024
AZURE_MAX_MESSAGE_BYTES: Final = 256 * 1024


@dataclass(frozen=True, slots=True)
class AWSIoT:
    endpoint: str  # the account's device data endpoint (host name)
    thing_name: str  # the MQTT client ID


@dataclass(frozen=True, slots=True)
class AzureIoTHub:
    host: str  # <hub>.azure-devices.net
    device_id: str
    shared_access_key: str = field(default="", repr=False)  # base64; "" with X.509
    shared_access_key_name: str = ""  # a hub-level policy's name; "" for a device key
    sas_token_ttl_s: int = 3600

    @property
    def username(self) -> str:
        return f"{self.host}/{self.device_id}/?api-version={AZURE_API_VERSION}"

    @property
    def resource_uri(self) -> str:
        return f"{self.host}/devices/{self.device_id}"

    def token(self, now_s: float) -> tuple[str, int]:
        """A fresh SAS token and its expiry (Unix seconds)."""
        expiry = int(now_s) + self.sas_token_ttl_s
        return (
            sas_token(
                self.resource_uri,
                self.shared_access_key,
                expiry,
                key_name=self.shared_access_key_name,
            ),
            expiry,
        )

    def renew_at(self, expiry: int) -> float:
        """When a connection made with a token expiring at ``expiry`` should be renewed:
        a tenth of the lifetime (at least a minute, at most an hour) before it ends."""
        margin = min(3600, max(60, self.sas_token_ttl_s // 10))
        return float(expiry - min(margin, self.sas_token_ttl_s // 2))


def sas_token(resource_uri: str, key: str, expiry: int, *, key_name: str = "") -> str:
    """Azure's shared access signature: HMAC-SHA256, keyed with the base64-decoded key, over
    the URL-encoded resource URI, a newline and the expiry; base64; all URL-encoded."""
    try:
        secret = base64.b64decode(key, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("shared_access_key: not valid base64") from None
    encoded_uri = quote_plus(resource_uri)
    signed = hmac.new(secret, f"{encoded_uri}\n{expiry}".encode(), hashlib.sha256).digest()
    signature = quote_plus(base64.b64encode(signed).decode())
    token = f"SharedAccessSignature sr={encoded_uri}&sig={signature}&se={expiry}"
    if key_name:
        token += f"&skn={quote_plus(key_name)}"
    return token


def azure_host(hub: str) -> str:
    """``myhub`` or ``myhub.azure-devices.net`` -> the hub's host name."""
    hub = hub.strip().lower()
    return hub if "." in hub else hub + AZURE_DOMAIN
