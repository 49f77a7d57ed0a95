"""The driver, configured as sx1302.md section 8 describes, writes what the reference HAL
writes: every register write of both reference traces, in order where order matters."""

from __future__ import annotations

import pytest

from hal.sx1302.emulator.selftest import TxSettings, run_emulation
from hal.sx1302.emulator.trace import Trace, compare
from hal.sx1302.global_conf import load_global_conf
from tests.hal.sx1302.helpers import DATA, REFERENCE


@pytest.mark.parametrize(
    ("conf", "reference", "tx"),
    [
        ("global_conf_rx_eu868.json", "lgw_start_rx_eu868.trace", None),
        (
            "global_conf_send_eu868.json",
            "lgw_start_send_eu868.trace",
            TxSettings(frequency_hz=868_100_000, power_dbm=14),
        ),
    ],
)
def test_reference_writes_are_all_reproduced(
    conf: str, reference: str, tx: TxSettings | None
) -> None:
    config = load_global_conf(DATA / conf).config
    report = run_emulation(config, tx=tx)
    comparison = compare(Trace.load(REFERENCE / reference), Trace.parse(report.trace))
    print(comparison.report())  # the share of reference writes reproduced, shown with -s
    assert comparison.reference_writes > 250
    assert comparison.missing == []
    assert comparison.share == 1.0
    assert comparison.order_error is None
    assert comparison.radio_error is None
    assert comparison.i2c_error is None


def test_a_changed_register_value_is_reported_missing() -> None:
    reference = Trace.load(REFERENCE / "lgw_start_rx_eu868.trace")
    config = load_global_conf(DATA / "global_conf_rx_eu868.json").config
    report = run_emulation(config)
    tampered = [line.replace("W 5812 1 55", "W 5812 1 56") for line in report.trace]
    comparison = compare(reference, Trace.parse(tampered))
    assert comparison.share < 1.0
    assert [(item, line) for item, line in comparison.missing] == [((0x5812, 0x55), 203)]
    assert "missing: W 5812 55 (reference line 203)" in comparison.report()


def test_firmware_writes_out_of_order_are_reported() -> None:
    reference = Trace.load(REFERENCE / "lgw_start_rx_eu868.trace")
    config = load_global_conf(DATA / "global_conf_rx_eu868.json").config
    lines = run_emulation(config).trace
    first = next(i for i, line in enumerate(lines) if line.startswith("W 0000 1024"))
    second = next(i for i, line in enumerate(lines) if line.startswith("W 0400 1024"))
    lines[first], lines[second] = lines[second], lines[first]
    comparison = compare(reference, Trace.parse(lines))
    assert comparison.share == 1.0  # every write is there...
    assert comparison.order_error is not None  # ...but not in the reference's order
    assert "W 0400" in comparison.order_error
