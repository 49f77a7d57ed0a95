"""Downlink items as txpk JSON, and TX_ACK JSON as statuses."""

from __future__ import annotations

import base64
import contextlib
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hal.model import (
    CodeRate,
    Delay,
    DownlinkItem,
    DownlinkTxInfo,
    FSKModulation,
    GPSEpoch,
    Immediately,
    LoRaModulation,
    LRFHSSModulation,
    Modulation,
    Timing,
    TxAckStatus,
)
from hal.semtech_udp import DownlinkEncodeError, PacketError, tx_ack_status, txpk_json

PHY = bytes.fromhex("60f17dbe4900020001954378762b11ff0d")
SF9 = LoRaModulation(125_000, 9, CodeRate.CR_4_5)


CLASS_A = Delay(1_000_000_000)


def item(
    timing: Timing = CLASS_A,
    modulation: Modulation = SF9,
    context: bytes = (3512348611).to_bytes(4, "big"),
    **tx: Any,
) -> DownlinkItem:
    fields: dict[str, Any] = {"frequency": 868_100_000, "power": 14} | tx
    return DownlinkItem(
        PHY, DownlinkTxInfo(modulation=modulation, timing=timing, context=context, **fields)
    )


def txpk(downlink: DownlinkItem, **options: bool) -> dict[str, Any]:
    document = json.loads(txpk_json(downlink, **options))
    assert list(document) == ["txpk"]
    result: dict[str, Any] = document["txpk"]
    return result


def test_class_a_lora_downlink() -> None:
    assert txpk(item()) == {
        "imme": False,
        "tmst": 3512348611 + 1_000_000,
        "freq": 868.1,
        "rfch": 0,
        "powe": 14,
        "modu": "LORA",
        "datr": "SF9BW125",
        "codr": "4/5",
        "ipol": True,
        "ncrc": True,
        "size": len(PHY),
        "data": base64.b64encode(PHY).decode(),
    }


def test_frequency_is_written_with_six_exact_decimals() -> None:
    assert b'"freq":868.100000,' in txpk_json(item())
    assert b'"freq":923.300001,' in txpk_json(item(frequency=923_300_001))
    assert b'"freq":2403.000000,' in txpk_json(item(frequency=2_403_000_000))


def test_delay_wraps_the_32_bit_counter() -> None:
    late = item(Delay(5_000_000_000), context=(0xFFFF_FFFF - 1_000).to_bytes(4, "big"))
    assert txpk(late)["tmst"] == 5_000_000 - 1_001


def test_delay_needs_the_uplink_context() -> None:
    with pytest.raises(DownlinkEncodeError) as caught:
        txpk_json(item(context=b"\x01\x02"))
    assert caught.value.status is TxAckStatus.INTERNAL_ERROR


def test_immediately_and_gps_timing() -> None:
    immediate = txpk(item(Immediately(), context=b""))
    assert immediate["imme"] is True
    assert "tmst" not in immediate
    beacon = txpk(item(GPSEpoch(1_285_579_871_592_999_999), context=b""))
    assert beacon["tmms"] == 1_285_579_871_592
    assert beacon["imme"] is False
    assert "tmst" not in beacon


def test_modulation_flags_when_lorawan_flags_are_off() -> None:
    plain = txpk(item(), lorawan_flags=False)
    assert plain["ipol"] is False
    assert "ncrc" not in plain
    explicit = LoRaModulation(
        125_000, 9, CodeRate.CR_4_5, polarization_inversion=True, preamble=10, no_crc=True
    )
    fields = txpk(item(modulation=explicit), lorawan_flags=False)
    assert (fields["ipol"], fields["ncrc"], fields["prea"]) == (True, True, 10)


def test_long_interleaved_code_rate() -> None:
    modulation = LoRaModulation(125_000, 9, CodeRate.CR_LI_4_6)
    assert txpk(item(modulation=modulation))["codr"] == "4/6LI"


def test_fsk_downlink() -> None:
    fields = txpk(item(modulation=FSKModulation(50_000, 25_000)))
    assert (fields["modu"], fields["datr"], fields["fdev"]) == ("FSK", 50_000, 25_000)
    assert "ipol" not in fields
    assert "ncrc" not in fields
    assert txpk(item(modulation=FSKModulation(50_000)))["fdev"] == 25_000


def test_board_and_antenna_only_when_set() -> None:
    assert "brd" not in txpk(item())
    assert (txpk(item(board=1, antenna=2))["brd"], txpk(item(board=1, antenna=2))["ant"]) == (1, 2)


@pytest.mark.parametrize(
    ("downlink", "status"),
    [
        (
            item(modulation=LoRaModulation(125_000, 9, CodeRate.UNDEFINED)),
            TxAckStatus.INTERNAL_ERROR,
        ),
        (
            item(modulation=LRFHSSModulation(137_000, CodeRate.CR_2_6, 8)),
            TxAckStatus.INTERNAL_ERROR,
        ),
        (item(frequency=0), TxAckStatus.TX_FREQ),
        (item(power=99), TxAckStatus.TX_POWER),
        (item(GPSEpoch(-1)), TxAckStatus.INTERNAL_ERROR),
        (DownlinkItem(bytes(256), item().tx_info), TxAckStatus.INTERNAL_ERROR),
    ],
)
def test_items_that_cannot_be_encoded(downlink: DownlinkItem, status: TxAckStatus) -> None:
    with pytest.raises(DownlinkEncodeError) as caught:
        txpk_json(downlink)
    assert caught.value.status is status


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        (b"", TxAckStatus.OK),
        (b"\x00", TxAckStatus.OK),
        (b"{}", TxAckStatus.OK),
        (b'{"txpk_ack":{}}', TxAckStatus.OK),
        (b'{"txpk_ack":{"error":"NONE"}}', TxAckStatus.OK),
        (b'{"txpk_ack":{"error":""}}', TxAckStatus.OK),
        (b'{"txpk_ack":{"warn":"TX_POWER","value":20}}', TxAckStatus.OK),
        (b'{"txpk_ack":{"error":"TOO_LATE"}}', TxAckStatus.TOO_LATE),
        (b'{"txpk_ack":{"error":"TOO_EARLY"}}', TxAckStatus.TOO_EARLY),
        (b'{"txpk_ack":{"error":"COLLISION_PACKET"}}', TxAckStatus.COLLISION_PACKET),
        (b'{"txpk_ack":{"error":"COLLISION_BEACON"}}', TxAckStatus.COLLISION_BEACON),
        (b'{"txpk_ack":{"error":"TX_FREQ"}}', TxAckStatus.TX_FREQ),
        (b'{"txpk_ack":{"error":"TX_POWER"}}', TxAckStatus.TX_POWER),
        (b'{"txpk_ack":{"error":"GPS_UNLOCKED"}}', TxAckStatus.GPS_UNLOCKED),
        (b'{"txpk_ack":{"error":"UNKNOWN"}}', TxAckStatus.INTERNAL_ERROR),
        (b'{"txpk_ack":{"error":"SOLAR_FLARE"}}', TxAckStatus.INTERNAL_ERROR),
        (b'{"txpk_ack":{"error":7}}', TxAckStatus.INTERNAL_ERROR),
    ],
)
def test_tx_ack_statuses(payload: bytes, status: TxAckStatus) -> None:
    assert tx_ack_status(payload) is status


@pytest.mark.parametrize("payload", [b"{", b"[]", b"\xff\xfe", b"[" * 100_000])
def test_unreadable_tx_ack_json(payload: bytes) -> None:
    with pytest.raises(PacketError):
        tx_ack_status(payload)


@given(st.binary(max_size=100))
def test_random_tx_ack_payloads(payload: bytes) -> None:
    with contextlib.suppress(PacketError):
        tx_ack_status(payload)


@given(
    st.integers(1, 9_999_999_999),
    st.integers(-30, 40),
    st.integers(0, (1 << 32) - 1),
    st.integers(0, 10**12),
    st.binary(max_size=255),
)
def test_txpk_is_valid_json_with_exact_values(
    frequency: int, power: int, tmst: int, delay_ns: int, phy: bytes
) -> None:
    downlink = DownlinkItem(
        phy, DownlinkTxInfo(frequency, power, SF9, Delay(delay_ns), context=tmst.to_bytes(4, "big"))
    )
    fields = txpk(downlink)
    assert round(fields["freq"] * 1_000_000) == frequency
    assert fields["tmst"] == (tmst + delay_ns // 1000) % (1 << 32)
    assert base64.b64decode(fields["data"]) == phy
    assert fields["size"] == len(phy)
