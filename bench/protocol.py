"""Protocol-core throughput: the per-uplink and per-join work of the network server, one core.

- uplink: decode a PHYPayload, check its MIC, decrypt its FRMPayload (20-byte application
  payload, so a 33-byte PHYPayload), for LoRaWAN 1.0.x and 1.1 sessions, with keys warm in the
  AES context cache and with every frame from a different device;
- join-accept: derive the session keys, build, sign and encrypt the join-accept.

Every frame is distinct (device, keys and counter vary), so no cache flatters the result
beyond what a real network sees.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from appliance.lorawan import security
from appliance.lorawan.codec import decode_phy_payload
from appliance.lorawan.frames import DataFrame
from appliance.lorawan.identifiers import EUI64, AESKey, DevAddr, NetID
from appliance.lorawan.join_accept import CFListFrequencies, DLSettings, JoinAccept
from appliance.lorawan.mhdr import MType
from appliance.lorawan.security import SessionKeys

PAYLOAD = bytes(range(20))


@dataclass(frozen=True)
class Result:
    name: str
    operations: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.operations / self.seconds

    def line(self) -> str:
        return (
            f"{self.name:<48} {self.per_second:>12,.0f} /s "
            f"({self.seconds / self.operations * 1e6:.2f} µs each)"
        )


def _best_of(name: str, operations: int, body: Callable[[], None], repeats: int) -> Result:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        body()
        best = min(best, time.perf_counter() - start)
    return Result(name, operations, best)


def _session(lorawan_1_1: bool, device: int) -> SessionKeys:
    f_int, s_int, enc, app = (AESKey((device * 4 + i).to_bytes(16, "big")) for i in range(4))
    if lorawan_1_1:
        return SessionKeys(f_int, s_int, enc, app)
    return SessionKeys.for_1_0(f_int, app)


def bench_uplink(lorawan_1_1: bool, count: int, repeats: int, devices: int) -> Result:
    """Frames of ``devices`` devices, each with its own keys, in round-robin order.

    With few devices their keys stay in the AES context cache (a busy site); with more devices
    than the cache holds every frame takes the one-shot path (a large, quiet network).
    """
    sessions = [_session(lorawan_1_1, device) for device in range(devices)]
    frames = []
    for index in range(count):
        device = index % devices
        f_cnt = index // devices
        frame = security.build_data_frame(
            MType.UNCONFIRMED_DATA_UP,
            DevAddr(0x26000000 + device),
            sessions[device],
            f_cnt,
            f_port=1,
            payload=PAYLOAD,
        )
        frames.append((frame.encode(), f_cnt, sessions[device]))

    def body() -> None:
        for wire, f_cnt, session in frames:
            frame = decode_phy_payload(wire)
            assert isinstance(frame, DataFrame)
            if not security.verify_data_mic(frame, session, f_cnt):
                raise AssertionError("MIC failed in benchmark")
            security.decrypt_frm_payload(frame, session, f_cnt)

    version = "1.1" if lorawan_1_1 else "1.0"
    name = f"uplink {version}: decode + MIC + decrypt, {devices:,} dev"
    return _best_of(name, count, body, repeats)


def bench_join_accept(lorawan_1_1: bool, count: int, repeats: int) -> Result:
    net_id = NetID("000013")
    join_eui = EUI64("70b3d57ed0000000")
    devices = [
        (EUI64(i), AESKey(i.to_bytes(16, "big")), AESKey((i + 7).to_bytes(16, "big")))
        for i in range(1, count + 1)
    ]
    cf_list = CFListFrequencies((867_100_000, 867_300_000, 867_500_000, 867_700_000, 867_900_000))

    def body() -> None:
        for index, (dev_eui, nwk_key, app_key) in enumerate(devices):
            dev_nonce, join_nonce = index & 0xFFFF, index
            dev_addr = DevAddr(0x26000000 + index)
            if lorawan_1_1:
                security.derive_session_keys_1_1(
                    nwk_key, app_key, join_nonce=join_nonce, join_eui=join_eui, dev_nonce=dev_nonce
                )
                accept = JoinAccept(
                    join_nonce, net_id, dev_addr, DLSettings(opt_neg=True), 1, cf_list
                )
                security.seal_join_accept(
                    accept,
                    mic_key=security.derive_js_int_key(nwk_key, dev_eui),
                    encryption_key=nwk_key,
                    join_eui=join_eui,
                    dev_nonce=dev_nonce,
                )
            else:
                security.derive_session_keys_1_0(
                    app_key, join_nonce=join_nonce, net_id=net_id, dev_nonce=dev_nonce
                )
                accept = JoinAccept(join_nonce, net_id, dev_addr, DLSettings(), 1, cf_list)
                security.seal_join_accept(accept, mic_key=app_key, encryption_key=app_key)

    version = "1.1" if lorawan_1_1 else "1.0"
    return _best_of(f"join-accept {version}: derive + build + MIC + encrypt", count, body, repeats)


def run(quick: bool) -> list[Result]:
    uplinks, joins, repeats = (2_000, 500, 1) if quick else (100_000, 20_000, 5)
    return [
        bench_uplink(False, uplinks, repeats, devices=100),
        bench_uplink(True, uplinks, repeats, devices=100),
        bench_uplink(False, uplinks, repeats, devices=uplinks),
        bench_uplink(True, uplinks, repeats, devices=uplinks),
        bench_join_accept(False, joins, repeats),
        bench_join_accept(True, joins, repeats),
    ]
