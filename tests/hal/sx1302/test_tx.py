"""Transmissions: gain table, start delay, timestamped triggers, status and abort."""

from __future__ import annotations

import pytest

from hal.model import CodeRate, FSKModulation, LoRaModulation
from hal.sx1302.config import TxGain
from hal.sx1302.errors import Sx1302Error
from hal.sx1302.tx import TxMode, TxRequest, TxState, lora_start_delay, select_gain
from tests.hal.sx1302.helpers import EU868_GAINS, started


def test_gain_row_is_the_strongest_not_above_the_request() -> None:
    assert select_gain(EU868_GAINS, 14) == TxGain(14, 0, 17)
    assert select_gain(EU868_GAINS, 15.5) == TxGain(14, 0, 17)
    assert select_gain(EU868_GAINS, 30) == TxGain(27, 1, 14)
    assert select_gain(EU868_GAINS, 11) is None


def test_start_delay_matches_the_reference_value() -> None:
    assert lora_start_delay(125_000, 6) == 0xB935  # the reference trace writes B9 35


def _request(**changes: object) -> TxRequest:
    values: dict[str, object] = {
        "rf_chain": 0,
        "frequency_hz": 869_525_000,
        "gain": TxGain(27, 1, 14),
        "modulation": LoRaModulation(125_000, 12, CodeRate.CR_4_5, polarization_inversion=True),
        "payload": bytes(range(20)),
    }
    values.update(changes)
    return TxRequest(**values)  # type: ignore[arg-type]


def test_timestamped_transmission_starts_at_its_counter_value() -> None:
    bench = started()
    now_us = bench.driver.read_counter()
    start_us = now_us + 1_000_000
    bench.driver.send(_request(mode=TxMode.TIMESTAMPED, count_us=start_us))
    (record,) = bench.chip.transmissions
    assert record.trigger == "delayed"
    assert abs(record.start_counter_us - start_us) <= 1
    assert abs(record.frequency_hz - 869_525_000) < 200
    assert record.modulation == LoRaModulation(
        125_000, 12, CodeRate.CR_4_5, polarization_inversion=True, preamble=8, no_crc=True
    )
    assert record.power_register == (1 << 6) | 14
    assert record.payload == bytes(range(20))
    assert bench.driver.tx_state(0) is TxState.SCHEDULED
    bench.clock.sleep(1.1)
    assert bench.driver.tx_state(0) is TxState.EMITTING
    bench.clock.sleep(2.0)  # SF12, 20 bytes: about 1.5 s on air
    assert bench.driver.tx_state(0) is TxState.FREE


def test_abort_frees_a_scheduled_transmission() -> None:
    bench = started()
    bench.driver.send(
        _request(mode=TxMode.TIMESTAMPED, count_us=bench.driver.read_counter() + 5_000_000)
    )
    assert bench.driver.tx_state(0) is TxState.SCHEDULED
    bench.driver.abort(0)
    assert bench.driver.tx_state(0) is TxState.FREE


def test_fsk_transmission() -> None:
    bench = started()
    bench.driver.send(_request(modulation=FSKModulation(50_000, 25_000), payload=b"\x60" * 15))
    (record,) = bench.chip.transmissions
    assert record.modulation == FSKModulation(50_000)
    assert record.payload == b"\x60" * 15


def test_requests_the_chip_cannot_send_are_refused() -> None:
    with pytest.raises(Sx1302Error, match="exceeds 255"):
        _request(payload=bytes(256))
    with pytest.raises(Sx1302Error, match="coding rate"):
        _request(modulation=LoRaModulation(125_000, 7, CodeRate.CR_LI_4_5))
