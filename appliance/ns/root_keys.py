"""A device's root keys (AppKey, NwkKey) as the devices table keeps them: JSON, sealed with
the data directory's secret key and bound to the device (``appliance.ns.secrets``)."""

from __future__ import annotations

import json

from appliance.lorawan.identifiers import AESKey
from appliance.ns.device import Device, RootKeys
from appliance.ns.secrets import SecretBox


def context(dev_eui: object) -> str:
    """What a device's sealed keys are bound to: they open for this device only."""
    return f"device:{dev_eui}"


def sealed_root_keys(secrets: SecretBox, device: Device) -> bytes | None:
    keys = device.root_keys
    if keys is None:
        return None
    data = {
        "app_key": str(keys.app_key),
        "nwk_key": None if keys.nwk_key is None else str(keys.nwk_key),
    }
    return secrets.seal(json.dumps(data).encode(), context(device.dev_eui))


def root_keys_from(plain: bytes) -> RootKeys:
    data = json.loads(plain)
    nwk = data["nwk_key"]
    return RootKeys(AESKey(data["app_key"]), None if nwk is None else AESKey(nwk))
