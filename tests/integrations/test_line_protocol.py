"""InfluxDB line protocol with ChirpStack's measurements: the cases of ChirpStack's own tests
(``influxdb.rs``: one level, nested objects, latitude and longitude, status), written the
appliance's way (event time stamps, shortest floats), and the escaping rules."""

from __future__ import annotations

import pytest

from appliance.integrations import event_lines
from appliance.integrations.line_protocol import escape_key, escape_measurement, geohash, line
from tests.integrations.helpers import DEVICES, log_record, status, up

TAGS = "application_name=Test\\ app,dev_eui=0101010101010101,device_name=sensor\\ 0101010101010101"
T = 1_795_262_410_000_000_000  # the event's time (2026-11-21T12:00:10Z) in ns


def test_uplink_with_a_flat_object() -> None:
    record = up(
        10,
        decoded={"temperature": 25.4, "humidity": 20, "active": True, "status": "on"},
        rssi=(-60, -55, -70),
        snr=(1.0, 2.5, 1.0),
        tags={"fo o": "ba,r"},
    )
    tags = f"{TAGS},f_port=10,fo\\ o=ba\\,r"
    assert event_lines(record) == [
        f"device_frmpayload_data_active,{tags} value=true {T}",
        f"device_frmpayload_data_humidity,{tags} value=20.0 {T}",
        f'device_frmpayload_data_status,{tags} value="on" {T}',
        f"device_frmpayload_data_temperature,{tags} value=25.4 {T}",
        f"device_uplink,{TAGS},dr=5,fo\\ o=ba\\,r,frequency=868100000 "
        f"f_cnt=10i,rssi=-55i,snr=2.5,value=1i {T}",
    ]


def test_nested_objects_lists_and_a_position() -> None:
    record = up(
        10,
        decoded={
            "temperature": {"a": 20.5, "b": 33.3},
            "levels": [1, None, 3],
            "latitude": 1.123,
            "longitude": 2.123,
        },
    )
    lines = event_lines(record)
    tags = f"{TAGS},f_port=10"
    assert lines[:5] == [
        f"device_frmpayload_data_levels_0,{tags} value=1.0 {T}",
        f"device_frmpayload_data_levels_2,{tags} value=3.0 {T}",
        f'device_frmpayload_data_location,{tags} geohash="s01w2k3vvqre",'
        f"latitude=1.123,longitude=2.123 {T}",
        f"device_frmpayload_data_temperature_a,{tags} value=20.5 {T}",
        f"device_frmpayload_data_temperature_b,{tags} value=33.3 {T}",
    ]
    assert lines[5].startswith("device_uplink,")


def test_uplink_without_an_object_writes_device_uplink_only() -> None:
    (only,) = event_lines(up(7, DEVICES[1]))
    assert only.startswith("device_uplink,application_name=Test\\ app,dev_eui=0202020202020202,")
    assert only.endswith(f" f_cnt=7i,rssi=-68i,snr=7.5,value=1i {T - 3 * 10**9}")


def test_status() -> None:
    assert event_lines(status(battery=48.43, margin=10, tags={"foo": "bar"})) == [
        f"device_status_battery_level,{TAGS},foo=bar value=48.43000030517578 1795262400000000000",
        f"device_status_margin,{TAGS},foo=bar value=10i 1795262400000000000",
    ]
    on_mains = event_lines(status(external=True, battery=None))
    assert [text.split(",")[0] for text in on_mains] == ["device_status_margin"]
    unknown = event_lines(status(battery=None))
    assert [text.split(",")[0] for text in unknown] == ["device_status_margin"]


def test_other_events_write_nothing() -> None:
    assert event_lines(log_record()) == []


def test_escaping() -> None:
    assert escape_measurement("a b,c=d") == "a\\ b\\,c=d"
    assert escape_key('k e,y=v"\\') == 'k\\ e\\,y\\=v"\\\\'
    assert escape_key("two\nlines") == "two\\ lines"
    assert line("m", {"t": "a\nb", "empty": ""}, {"s": 'say "hi"\\'}, 5) == (
        'm,t=a\\ b s="say \\"hi\\"\\\\" 5'
    )
    assert line("m", {}, {"x": float("nan")}, 0) is None  # no field left: no line
    assert line("m", {}, {"x": float("inf"), "y": 1e-7}, 0) == "m y=1e-07"


@pytest.mark.parametrize(
    ("latitude", "longitude", "expected"),
    [
        (1.123, 2.123, "s01w2k3vvqre"),  # ChirpStack's test
        (57.64911, 10.40744, "u4pruydqqvj8"),  # the example on geohash.org
        (0.0, 0.0, "s00000000000"),
        (91.0, 0.0, ""),
    ],
)
def test_geohash(latitude: float, longitude: float, expected: str) -> None:
    assert geohash(latitude, longitude) == expected
