"""The shared frame model: validation and the small conversions it owns."""

from __future__ import annotations

import pytest

from appliance.lorawan.errors import InvalidValueError
from appliance.lorawan.identifiers import EUI64
from hal.backend import BackendConfigError, create_backend
from hal.model import (
    CodeRate,
    Delay,
    DownlinkFrame,
    DownlinkTxAck,
    FSKModulation,
    LoRaModulation,
    TxAckStatus,
)


@pytest.mark.parametrize(
    ("rate", "text", "cr"),
    [(CodeRate.CR_4_5, "4/5", 1), (CodeRate.CR_4_8, "4/8", 4), (CodeRate.CR_LI_4_6, "4/6LI", 2)],
)
def test_code_rate_text(rate: CodeRate, text: str, cr: int) -> None:
    assert rate.text == text
    assert CodeRate.from_text(text) is rate
    assert rate.lora_cr == cr


def test_modulations_validate() -> None:
    assert LoRaModulation(125_000, 7).datr == "SF7BW125"
    with pytest.raises(InvalidValueError, match="bandwidth"):
        LoRaModulation(100_000, 7)
    with pytest.raises(InvalidValueError, match="spreading factor"):
        LoRaModulation(125_000, 13)
    with pytest.raises(InvalidValueError, match="bit rate"):
        FSKModulation(5)
    with pytest.raises(InvalidValueError, match="unknown coding rate"):
        CodeRate.from_text("5/4")


def test_downlink_needs_items_and_ack_names_the_sent_item() -> None:
    with pytest.raises(InvalidValueError, match="at least one item"):
        DownlinkFrame(1, EUI64(1), ())
    with pytest.raises(InvalidValueError, match="negative"):
        Delay(-1)
    ack = DownlinkTxAck(EUI64(1), 1, (TxAckStatus.TOO_LATE, TxAckStatus.OK))
    assert ack.sent_item == 1
    assert DownlinkTxAck(EUI64(1), 1, (TxAckStatus.TX_FREQ,)).sent_item is None


def test_unknown_backend_kind_names_the_known_ones() -> None:
    with pytest.raises(BackendConfigError, match="unknown backend kind 'carrier-pigeon'"):
        create_backend("carrier-pigeon", {})
