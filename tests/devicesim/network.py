"""The network side of the device-simulator tests, built from the protocol core alone.

``Network`` keeps what a network server would for one device (keys, counters) and builds
join-accepts and downlinks with ``security.seal_join_accept``/``build_data_frame``; it reads
uplinks the way a network server does (MIC checked, counters rebuilt, FOpts decrypted). The
clock is a plain integer the tests move; nothing sleeps.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from appliance.devicesim import (
    ABP,
    OTAA,
    DeviceConfig,
    DownlinkResult,
    EndDevice,
    ReceiveWindow,
    Transmission,
)
from appliance.lorawan import security
from appliance.lorawan.codec import decode_phy_payload
from appliance.lorawan.fcnt import reconstruct_f_cnt
from appliance.lorawan.frames import DataFrame, FCtrl, JoinRequest, RejoinRequest02, RejoinRequest1
from appliance.lorawan.identifiers import EUI64, AESKey, DevAddr, NetID
from appliance.lorawan.join_accept import CFList, DLSettings, JoinAccept
from appliance.lorawan.maccommands import MACCommand, decode_mac_commands, encode_mac_commands
from appliance.lorawan.mhdr import MType
from appliance.lorawan.regions import get_region
from appliance.lorawan.security import SessionKeys

S = 1_000_000_000
MS = 1_000_000
APP_KEY = AESKey("2b7e151628aed2a6abf7158809cf4f3c")
NWK_KEY = AESKey("000102030405060708090a0b0c0d0e0f")
DEV_EUI = EUI64("0004a30b001c0530")
JOIN_EUI = EUI64("70b3d57ed0000000")
NET_ID = NetID("000013")
DEV_ADDR = DevAddr("26011bda")
ABP_KEYS_10 = SessionKeys.for_1_0(
    AESKey("44024241ed4ce9a68c6a8bc055233fd3"), AESKey("ec925802ae430ca77fd3dd73cb2cc588")
)
ABP_KEYS_11 = SessionKeys(
    AESKey("11111111111111111111111111111111"),
    AESKey("22222222222222222222222222222222"),
    AESKey("33333333333333333333333333333333"),
    AESKey("44444444444444444444444444444444"),
    lorawan_1_1=True,
)


def otaa_config(version: str = "1.0.3", **overrides: Any) -> DeviceConfig:
    """An OTAA device; duty-cycle limits off and DR5 so that tests move in seconds."""
    settings: dict[str, Any] = {
        "dev_eui": DEV_EUI,
        "join_eui": JOIN_EUI,
        "activation": OTAA(APP_KEY, NWK_KEY if version == "1.1" else None),
        "lorawan_version": version,
        "duty_cycle": False,
        "data_rate": 5,
        "payload": b"\x01\x02",
    }
    if overrides.get("region", "EU868") != "EU868" and "data_rate" not in overrides:
        settings["data_rate"] = None
    settings.update(overrides)
    return DeviceConfig(**settings)


def abp_config(version: str = "1.0.3", **overrides: Any) -> DeviceConfig:
    keys = ABP_KEYS_11 if version == "1.1" else ABP_KEYS_10
    settings: dict[str, Any] = {
        "dev_eui": DEV_EUI,
        "activation": ABP(DEV_ADDR, keys),
        "lorawan_version": version,
        "duty_cycle": False,
        "data_rate": 5,
        "payload": b"\x01\x02",
    }
    settings.update(overrides)
    return DeviceConfig(**settings)


def device(config: DeviceConfig, seed: int = 1, now_ns: int = 0) -> EndDevice:
    return EndDevice(config, rng=random.Random(seed), now_ns=now_ns)


def next_tx(dev: EndDevice, *, after_ns: int = 0) -> Transmission:
    """Move the fake clock to the device's next wake-up and take the frame it sends."""
    for _ in range(100):
        wake = dev.next_wakeup_ns()
        assert wake is not None, "the device will never transmit again"
        tx = dev.next_transmission(max(wake, after_ns))
        if tx is not None:
            return tx
    raise AssertionError("the device kept deferring its transmission")


def window(dev: EndDevice, name: str) -> ReceiveWindow:
    return next(w for w in dev.receive_windows() if w.name == name)


def deliver(
    dev: EndDevice, phy: bytes, name: str = "RX1", *, snr_db: float = 0.0
) -> DownlinkResult:
    """Hand ``phy`` to the device at the nominal start of window ``name``."""
    w = window(dev, name)
    nominal = w.open_ns + round(dev.config.rx_window_margin_ms * MS)
    return dev.on_downlink(phy, w.frequency, w.data_rate, nominal, snr_db=snr_db)


@dataclass
class Uplink:
    frame: DataFrame
    f_cnt: int
    commands: tuple[MACCommand, ...]
    payload: bytes


@dataclass
class Network:
    """One device's network server and join server."""

    opt_neg: bool = False
    region: str = "EU868"
    net_id: NetID = NET_ID
    dev_addr: DevAddr = DEV_ADDR
    keys: SessionKeys | None = None
    join_nonce: int = 0
    next_f_cnt_up: int = 0
    n_f_cnt_down: int = 0
    a_f_cnt_down: int = 0
    last_confirmed_up: int | None = None
    last_confirmed_down: int = 0
    uplinks: list[Uplink] = field(default_factory=list)

    # --- joins ---------------------------------------------------------------------------

    def accept_join(
        self,
        tx: Transmission,
        *,
        dl_settings: DLSettings | None = None,
        rx_delay: int = 1,
        cf_list: CFList | None = None,
        join_nonce: int | None = None,
        root_key: AESKey | None = None,
    ) -> bytes:
        request = decode_phy_payload(tx.phy_payload)
        assert isinstance(request, JoinRequest)
        key = root_key or (NWK_KEY if self.opt_neg else APP_KEY)
        assert security.verify_join_request(request, key), "join-request MIC"
        self.join_nonce = self.join_nonce + 1 if join_nonce is None else join_nonce
        settings = dl_settings or DLSettings(rx2_data_rate=get_region(self.region).rx2_data_rate)
        accept = JoinAccept(
            self.join_nonce,
            self.net_id,
            self.dev_addr,
            DLSettings(settings.rx1_dr_offset, settings.rx2_data_rate, self.opt_neg),
            rx_delay,
            cf_list,
        )
        return self._seal(accept, request.dev_nonce, key, 0xFF)

    def _seal(self, accept: JoinAccept, nonce: int, key: AESKey, req_type: int) -> bytes:
        if self.opt_neg:
            js_int = security.derive_js_int_key(NWK_KEY, DEV_EUI)
            encryption = key if req_type == 0xFF else security.derive_js_enc_key(NWK_KEY, DEV_EUI)
            phy = security.seal_join_accept(
                accept,
                mic_key=js_int,
                encryption_key=encryption,
                join_req_type=req_type,
                join_eui=JOIN_EUI,
                dev_nonce=nonce,
            )
            self.keys = security.derive_session_keys_1_1(
                NWK_KEY, APP_KEY, join_nonce=accept.join_nonce, join_eui=JOIN_EUI, dev_nonce=nonce
            )
        else:
            phy = security.seal_join_accept(accept, mic_key=key, encryption_key=key)
            self.keys = security.derive_session_keys_1_0(
                key, join_nonce=accept.join_nonce, net_id=self.net_id, dev_nonce=nonce
            )
        self.next_f_cnt_up = self.n_f_cnt_down = self.a_f_cnt_down = 0
        return phy

    def accept_rejoin(self, tx: Transmission, *, dev_addr: DevAddr | None = None) -> bytes:
        request = decode_phy_payload(tx.phy_payload)
        assert self.keys is not None
        if isinstance(request, RejoinRequest1):
            js_int = security.derive_js_int_key(NWK_KEY, DEV_EUI)
            assert security.verify_rejoin_request(request, js_int)
            nonce = request.rj_count1
        else:
            assert isinstance(request, RejoinRequest02)
            assert security.verify_rejoin_request(request, self.keys.s_nwk_s_int_key)
            nonce = request.rj_count0
        self.join_nonce += 1
        if dev_addr is not None:
            self.dev_addr = dev_addr
        accept = JoinAccept(
            self.join_nonce, self.net_id, self.dev_addr, DLSettings(opt_neg=True), 1, None
        )
        return self._seal(accept, nonce, NWK_KEY, request.rejoin_type)

    # --- data ----------------------------------------------------------------------------

    def read_uplink(self, tx: Transmission) -> Uplink:
        frame = decode_phy_payload(tx.phy_payload)
        assert isinstance(frame, DataFrame) and frame.uplink
        assert self.keys is not None
        f_cnt = reconstruct_f_cnt(frame.f_cnt, self.next_f_cnt_up)
        conf = self.last_confirmed_down if frame.f_ctrl.ack else 0
        assert security.verify_data_mic(
            frame, self.keys, f_cnt, conf_f_cnt=conf, tx_dr=tx.data_rate, tx_ch=tx.channel
        ), "uplink MIC"
        self.next_f_cnt_up = f_cnt + 1
        f_opts = security.decrypt_f_opts(frame, self.keys, f_cnt)
        payload = security.decrypt_frm_payload(frame, self.keys, f_cnt)
        mac = payload if frame.f_port == 0 else f_opts
        commands = decode_mac_commands(mac, uplink=True)
        assert commands.complete, commands.error
        if frame.confirmed:
            self.last_confirmed_up = f_cnt
        uplink = Uplink(frame, f_cnt, commands.commands, b"" if frame.f_port == 0 else payload)
        self.uplinks.append(uplink)
        return uplink

    def downlink(
        self,
        *,
        f_port: int | None = None,
        payload: bytes = b"",
        commands: tuple[MACCommand, ...] = (),
        confirmed: bool = False,
        ack: bool = False,
        f_pending: bool = False,
        f_cnt: int | None = None,
        dev_addr: DevAddr | None = None,
        on_port_0: bool = False,
    ) -> bytes:
        assert self.keys is not None
        mac = encode_mac_commands(commands, uplink=False)
        if on_port_0:
            f_port, payload, mac = 0, mac, b""
        application = self.keys.lorawan_1_1 and bool(f_port)
        counter = self.a_f_cnt_down if application else self.n_f_cnt_down
        f_cnt = counter if f_cnt is None else f_cnt
        if application:
            self.a_f_cnt_down = f_cnt + 1
        else:
            self.n_f_cnt_down = f_cnt + 1
        if confirmed:
            self.last_confirmed_down = f_cnt
        mtype = MType.CONFIRMED_DATA_DOWN if confirmed else MType.UNCONFIRMED_DATA_DOWN
        frame = security.build_data_frame(
            mtype,
            dev_addr or self.dev_addr,
            self.keys,
            f_cnt,
            f_ctrl=FCtrl(ack=ack, f_pending=f_pending),
            f_opts=mac,
            f_port=f_port,
            payload=payload,
            conf_f_cnt=self.last_confirmed_up or 0,
        )
        return frame.encode()


def joined(
    config: DeviceConfig, *, seed: int = 1, **accept: Any
) -> tuple[EndDevice, Network, Transmission]:
    """A device that has joined (RX1) and the network that let it in."""
    dev = device(config, seed)
    network = Network(opt_neg=config.lorawan_version == "1.1", region=config.region)
    tx = next_tx(dev)
    result = deliver(dev, network.accept_join(tx, **accept))
    assert result.accepted, result.reason
    return dev, network, tx


def exchange(
    dev: EndDevice, network: Network, *, name: str = "RX1", snr_db: float = 0.0, **downlink: Any
) -> tuple[Uplink, DownlinkResult]:
    """One class A exchange: the device's next uplink, then a downlink in ``name``."""
    uplink = network.read_uplink(next_tx(dev))
    return uplink, deliver(dev, network.downlink(**downlink), name, snr_db=snr_db)
