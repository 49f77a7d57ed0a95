"""A sans-IO LoRaWAN class A end-device: the product's device simulator and the network
server's test driver.

    device = EndDevice(DeviceConfig(dev_eui=..., activation=OTAA(app_key=...)), rng=Random(1))
    while (wake := device.next_wakeup_ns()) is not None:
        tx = device.next_transmission(wake)          # a Transmission or None
        ...                                           # put tx.phy_payload on the air
        for window in device.receive_windows():       # RX1, RX2
            result = device.on_downlink(frame, window.frequency, window.data_rate, t)

No sockets, no clock and no global randomness: times are arguments and randomness comes from
the ``random.Random`` given. See docs/device-simulator.md.
"""

from appliance.devicesim.channels import UplinkChannel
from appliance.devicesim.config import ABP, OTAA, DeviceConfig, LoRaWANVersion, PayloadSource
from appliance.devicesim.context import DeviceTime
from appliance.devicesim.device import EndDevice
from appliance.devicesim.errors import DeviceConfigError, SimulatorError, SnapshotError
from appliance.devicesim.radio import (
    FSKParameters,
    LoRaParameters,
    RadioModulation,
    ReceiveWindow,
    Transmission,
    TransmissionKind,
)
from appliance.devicesim.results import ApplicationPayload, DownlinkResult, Refusal
from appliance.devicesim.session import MACQueue, RadioSettings, Session

__all__ = [
    "ABP",
    "OTAA",
    "ApplicationPayload",
    "DeviceConfig",
    "DeviceConfigError",
    "DeviceTime",
    "DownlinkResult",
    "EndDevice",
    "FSKParameters",
    "LoRaParameters",
    "LoRaWANVersion",
    "MACQueue",
    "PayloadSource",
    "RadioModulation",
    "RadioSettings",
    "ReceiveWindow",
    "Refusal",
    "Session",
    "SimulatorError",
    "SnapshotError",
    "Transmission",
    "TransmissionKind",
    "UplinkChannel",
]
