"""Semtech global_conf.json accepted in place of a profile."""

from __future__ import annotations

from pathlib import Path

import pytest

from hal.sx1302.errors import ProfileError
from hal.sx1302.global_conf import load_global_conf, strip_comments
from tests.hal.sx1302.helpers import DATA


def test_comments_are_removed_but_not_inside_strings() -> None:
    text = '{"a": "x /* not a comment */ // nor this", /* gone */ "b": 1 // gone too\n}'
    assert strip_comments(text) == '{"a": "x /* not a comment */ // nor this",  "b": 1 \n}'


def test_the_section_8_file_parses() -> None:
    conf = load_global_conf(DATA / "global_conf_rx_eu868.json")
    assert (conf.bus_kind, conf.device, conf.gateway_id) == ("spi", "/dev/spidev0.0", None)
    assert [c.rf_chain for c in conf.config.multi_sf] == [1, 1, 1, 0, 0, 0, 0, 0]
    assert not conf.config.service.enable
    assert conf.config.radios[1].frequency_hz == 868_500_000


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("{", "not valid JSON"),
        ("[]", "top level must be an object"),
        ("{}", "SX130x_conf: missing table"),
        ('{"SX130x_conf": {"radio_0": {"enable": true}}}', "SX130x_conf.radio_0.freq: missing"),
        (
            '{"SX130x_conf": {"radio_0": {"enable": false}}}',
            "clock source radio 0 must be an enabled radio",
        ),
        (
            '{"SX130x_conf": {"com_type": "PCIE", '
            '"radio_0": {"enable": true, "type": "SX1250", "freq": 868000000}}}',
            "com_type: must be one of SPI, USB",
        ),
        (
            '{"SX130x_conf": {"radio_0": {"enable": true, "type": "SX1250", "freq": 868000000},'
            ' "chan_multiSF_0": {"enable": true, "radio": 0, "if": 900000}}}',
            "outside the radio's +/-800000 Hz",
        ),
    ],
)
def test_errors_name_the_file_and_key(tmp_path: Path, text: str, fragment: str) -> None:
    path = tmp_path / "global_conf.json"
    path.write_text(text)
    with pytest.raises(ProfileError) as error:
        load_global_conf(path)
    assert str(path) in str(error.value)
    assert fragment in str(error.value)
