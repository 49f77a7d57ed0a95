"""The console's pure parts: stream messages, the bounded log and its filter, traffic figures,
status parts, configuration edits, form checks, metrics, where the appliance is."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.cli_helpers import ROOT
from tests.tui.fake_api import NOW, STATUS, stream_messages
from tui.client.metrics import parse_metrics
from tui.client.stream_items import EventItem, FrameItem, Missed, parse_stream_message
from tui.feed import LiveFeed
from tui.format import ago, clock_time, mask, size
from tui.screens.downlink_form import downlink_body
from tui.state.config_edit import ConfigInvalidError, ConfigValues, changes, read_values
from tui.state.decode import decoded_header, detail_lines, hex_dump, row_of
from tui.state.directory import Directory
from tui.state.frame_log import FrameLog, LogFilter
from tui.state.parts import cpu_temperature, integrations_backlog, parse_parts
from tui.state.traffic import ChannelTraffic, UplinkRate
from tui.target import NotReadyError, Target, TargetError
from tui.widgets.form import FormError, hex_value, new_eui, new_key

# Stream messages


def test_every_message_of_the_fixed_stream_parses() -> None:
    items = [parse_stream_message(m) for m in stream_messages()]
    assert [type(i).__name__ for i in items].count("FrameItem") == 9
    assert items[-1] == Missed(2)
    frame = items[0]
    assert isinstance(frame, FrameItem)
    assert (frame.frequency, frame.spreading_factor, frame.rssi, frame.snr) == (
        868_100_000,
        7,
        -70,
        9.5,
    )
    mic = items[-2]
    assert isinstance(mic, EventItem) and mic.is_mic_failure


@pytest.mark.parametrize(
    ("message", "error"),
    [
        ([], "expected a JSON object"),
        ({"type": "nope"}, "unknown type 'nope'"),
        ({"type": "missed", "count": -1}, "non-negative"),
        ({"type": "frame", "direction": "sideways"}, "direction must be up or down"),
        ({"type": "event", "kind": "teleport"}, "unknown kind 'teleport'"),
        ({"type": "event", "kind": "up", "devEui": 5}, "devEui: expected a string"),
        ({"type": "event", "kind": "up", "body": []}, "body: expected an object"),
    ],
)
def test_a_malformed_message_is_one_line(message: Any, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        parse_stream_message(message)


def test_frame_fields_missing_from_the_body_are_unknown_not_errors() -> None:
    item = parse_stream_message({"type": "frame", "direction": "up", "body": {}})
    assert isinstance(item, FrameItem)
    assert (item.frequency, item.spreading_factor, item.rssi, item.phy_payload) == (
        None,
        None,
        None,
        b"",
    )
    assert row_of(item, Directory()).device == "-"


# The log


def _items() -> list[Any]:
    return [i for i in map(parse_stream_message, stream_messages()) if not isinstance(i, Missed)]


def test_the_log_keeps_the_newest_items_only() -> None:
    log = FrameLog(capacity=5)
    items = _items()
    log.extend(items)
    assert len(log) == 5
    assert [e.seq for e in log] == [13, 14, 15, 16, 17]
    assert [e.seq for e in log.since(15)] == [16, 17]
    assert [e.seq for e in log.since(2)] == [13, 14, 15, 16, 17]  # fell out: all kept
    assert log.get(12) is None
    entry = log.get(17)
    assert entry is not None and entry.item is items[-1]


@pytest.mark.parametrize(
    ("log_filter", "count"),
    [
        (LogFilter(), 18),
        (LogFilter(device="cold"), 7),  # by name: frames, events and its MIC failure
        (LogFilter(device="70b3d57ed0000001"), 7),
        (LogFilter(dev_addr="01AB3C4F"), 4),
        (LogFilter(gateway="0016c001"), 17),  # the MIC log names no gateway
        (LogFilter(kind="uplink"), 8),
        (LogFilter(kind="downlink"), 1),
        (LogFilter(kind="frames"), 9),
        (LogFilter(kind="events"), 9),
        (LogFilter(kind="log"), 1),
        (LogFilter(mic_failures_only=True), 1),
        (LogFilter(device="cold", kind="uplink"), 3),
    ],
)
def test_the_filter(log_filter: LogFilter, count: int) -> None:
    feed = LiveFeed()
    for item in map(parse_stream_message, stream_messages()):
        feed.push(item)
    feed.take_batch()
    feed.directory.names.update({"70b3d57ed0000002": "cold-store"})
    assert len(feed.log.matching(log_filter, feed.directory, 100)) == count


def test_the_feed_hands_on_batches_and_counts_what_was_missed() -> None:
    feed = LiveFeed(max_pending=4)
    for item in map(parse_stream_message, stream_messages()):
        feed.push(item)
    assert feed.pending == 4
    assert feed.dropped_locally == len(stream_messages()) - 4
    batch = feed.take_batch()
    assert len(batch) == 3  # the fourth was the 'missed' report
    assert feed.log.missed == 2
    assert feed.take_batch() == []


def test_a_frame_with_only_a_devaddr_is_named_from_the_events() -> None:
    directory = Directory()
    items = _items()
    directory.learn(items)
    frame = parse_stream_message(
        {"type": "frame", "direction": "up", "devAddr": "01ab3c4e", "body": {}}
    )
    assert isinstance(frame, FrameItem)
    assert directory.dev_eui_of(frame) == "70b3d57ed0000002"
    assert directory.name_of(frame) == "cold-store"


def test_detail_lines_decode_the_frame_header_and_show_the_bytes() -> None:
    frame = _items()[0]
    lines = dict(detail_lines(frame))
    assert lines["phy.mType"] == "UNCONFIRMED_DATA_UP"
    assert lines["phy.devAddr"] == "01ab3c4d"
    assert lines["txInfo.modulation.lora.spreadingFactor"] == "7"
    assert lines["phyPayload"] == "19 bytes"
    assert hex_dump(bytes(range(18))) == [
        "0000  00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f",
        "0010  10 11",
    ]
    assert set(decoded_header(b"\x40\x01")) == {"error"}  # too short for a data frame


# Traffic


def test_uplinks_per_minute_from_the_counter() -> None:
    rate = UplinkRate(minutes=3)
    start = datetime(2026, 11, 21, 12, 0, 5, tzinfo=UTC)
    rate.observe(100, start)
    rate.observe(104, start + timedelta(seconds=30))
    rate.observe(110, start + timedelta(minutes=1))
    assert rate.series(start + timedelta(minutes=1)) == [0, 4, 6]
    rate.observe(3, start + timedelta(minutes=2))  # the appliance restarted: rebase
    rate.observe(5, start + timedelta(minutes=2, seconds=10))
    assert rate.series(start + timedelta(minutes=2)) == [4, 6, 2]
    assert rate.series(start + timedelta(minutes=10)) == [0, 0, 0]


def test_uplinks_by_channel_and_spreading_factor() -> None:
    traffic = ChannelTraffic()
    traffic.add(_items())
    table = traffic.by_channel()
    assert sorted(table) == [868_100_000, 868_300_000, 868_500_000]
    assert sum(sum(c.values()) for c in table.values()) == 8  # uplink frames only
    assert table[868_100_000] == {7: 1, 10: 1, 9: 1}


# Status


def test_status_parts_sorted_into_groups() -> None:
    parts = {p.name: p for p in parse_parts(STATUS)}
    assert sorted(parts) == [
        "app/5e1f0000-0000-4000-8000-000000000002/http/0",
        "app/5e1f0000-0000-4000-8000-000000000002/mqtt",
        "bridge",
        "semtech-udp",
        "sx1302",
    ]
    concentrator = parts["sx1302"]
    assert (concentrator.group, concentrator.state) == ("radio", "running")
    assert (concentrator.get("chip"), concentrator.temperature) == ("SX1302", 41.2)
    assert concentrator.get("gateway_count") == 1
    assert parts["semtech-udp"].group == "radio"
    mqtt = parts["app/5e1f0000-0000-4000-8000-000000000002/mqtt"]
    assert (mqtt.group, mqtt.kind, mqtt.backlog) == ("integration", "mqtt", 12)
    assert mqtt.last_error == "connection refused by 10.0.0.5:1883"
    assert mqtt.state == "disconnected"
    bridge = parts["bridge"]
    assert (bridge.group, bridge.state, bridge.backlog) == ("bridge", "connected", 0)
    assert integrations_backlog(STATUS) == 12
    assert cpu_temperature(STATUS) == 48.5
    assert parse_parts({"parts": "nonsense"}) == []
    assert [p.name for p in parse_parts({"parts": {"x": {"a": 1}, "y": 2}})] == ["x"]


def test_metrics_lines() -> None:
    metrics = parse_metrics(
        '# HELP x\nappliance_dropped_frames_total{reason="mic \\"bad\\""} 3\n'
        'appliance_uplinks_total 12\ngarbage line\nappliance_x{a="b"} NaNx\n'
    )
    assert metrics.by_label("appliance_dropped_frames_total", "reason") == {'mic "bad"': 3.0}
    assert metrics.value("appliance_uplinks_total") == 12.0
    assert metrics.value("appliance_x") is None


# Configuration edits

_RUNNING: dict[str, Any] = {
    "region": "EU868",
    "backends": [
        {"kind": "semtech-udp"},
        {"kind": "sx1302", "profile": "rak2287", "region": "EU868"},
    ],
    "bridge": {},
}


def _document(**file: Any) -> dict[str, Any]:
    return {"running": _RUNNING, "file": file, "configFile": "/data/appliance.toml"}


def test_the_file_wins_over_what_runs() -> None:
    assert read_values(_document()) == ConfigValues("EU868", "rak2287", "off", "mqtt", "", "")
    document = _document(
        region="US915",
        bridge={
            "mode": "hybrid",
            "transport": "semtech-udp",
            "gateway_ids": ["0016C001FF100001"],
            "semtech_udp": {"server": "ns.example:1700"},
        },
    )
    assert read_values(document) == ConfigValues(
        "US915", "rak2287", "hybrid", "semtech-udp", "ns.example:1700", "0016C001FF100001"
    )


def test_only_what_differs_is_sent_whole() -> None:
    document = _document(bridge={"mode": "off", "reconnect_max_s": 30.0})
    assert changes(document, read_values(document)) == {}
    values = ConfigValues(
        "US915",
        "rak5146",
        "forwarder",
        "mqtt",
        "mqtt://up:1883",
        "0016c001ff100001, 0016C001FF100002",
    )
    assert changes(document, values) == {
        "region": "US915",
        "backends": [
            {"kind": "semtech-udp"},
            {"kind": "sx1302", "profile": "rak5146", "region": "US915"},
        ],
        "bridge": {
            "mode": "forwarder",
            "transport": "mqtt",
            "reconnect_max_s": 30.0,
            "gateway_ids": ["0016c001ff100001", "0016c001ff100002"],
            "mqtt": {"url": "mqtt://up:1883"},
        },
    }
    assert _RUNNING["backends"][1]["profile"] == "rak2287"  # the document is left alone


def test_a_region_change_moves_the_concentrator_along() -> None:
    values = ConfigValues("AU915", "rak2287", "off", "mqtt", "", "")
    assert changes(_document(), values)["backends"][1] == {
        "kind": "sx1302",
        "profile": "rak2287",
        "region": "AU915",
    }


def test_a_masked_secret_is_never_sent_back() -> None:
    document = _document(
        bridge={
            "mode": "forwarder",
            "gateway_ids": ["0016c001ff100001"],
            "mqtt": {"url": "mqtt://u:********@up:1883", "password": "********"},
        }
    )
    values = replace(read_values(document), bridge_mode="hybrid")
    with pytest.raises(
        ConfigInvalidError, match=r"bridge: holds a secret .* /data/appliance\.toml"
    ):
        changes(document, values)
    # Other settings can still change.
    assert changes(document, replace(read_values(document), region="US915")).keys() == {
        "region",
        "backends",
    }


_OK = ConfigValues("EU868", "rak2287", "forwarder", "mqtt", "mqtt://up:1883", "0016c001ff100001")


@pytest.mark.parametrize(
    ("values", "error"),
    [
        (replace(_OK, region="XX123"), "region: 'XX123' is not one of"),
        (replace(_OK, board_profile="rak 2287"), "board profile"),
        (replace(_OK, bridge_mode="sideways"), "bridge mode"),
        (replace(_OK, bridge_transport="pigeon"), "bridge transport"),
        (replace(_OK, bridge_server=""), "bridge server: required"),
        (replace(_OK, bridge_server="http://x"), "an MQTT broker URL"),
        (replace(_OK, bridge_transport="semtech-udp", bridge_server="host"), "HOST:PORT"),
        (replace(_OK, bridge_transport="semtech-udp", bridge_server="h:99999"), "HOST:PORT"),
        (replace(_OK, bridge_gateways=""), "gateway IDs: required"),
        (replace(_OK, bridge_gateways="0016c001ff10000"), "is not 16 hexadecimal digits"),
        (replace(_OK, region="US915"), None),
    ],
)
def test_configuration_checks(values: ConfigValues, error: str | None) -> None:
    if error is None:
        assert changes(_document(), values)["region"] == "US915"
        return
    with pytest.raises(ConfigInvalidError, match=error):
        changes(_document(), values)


def test_the_board_profile_cannot_be_removed_from_here() -> None:
    values = replace(read_values(_document()), board_profile="")
    with pytest.raises(ConfigInvalidError, match="to remove the concentrator, edit"):
        changes(_document(), values)


# Forms


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("1", False, "hex", "01 ff"), {"fPort": 1, "confirmed": False, "data": "Af8="}),
        (("223", True, "base64", "Af8="), {"fPort": 223, "confirmed": True, "data": "Af8="}),
        (
            ("10", False, "json", '{"on": true}'),
            {"fPort": 10, "confirmed": False, "object": {"on": True}},
        ),
        (("0", False, "hex", ""), "FPort: must be 1-223"),
        (("x", False, "hex", ""), "FPort: expected a number"),
        (("1", False, "hex", "0g"), "not hexadecimal"),
        (("1", False, "base64", "!!"), "not valid base64"),
        (("1", False, "json", "[1]"), "takes a JSON object"),
        (("1", False, "json", "{"), "not valid JSON"),
        (("1", False, "hex", "00" * 243), "243 bytes is more than any data rate carries"),
    ],
)
def test_downlink_form_checks(args: tuple[str, bool, str, str], expected: Any) -> None:
    if isinstance(expected, dict):
        assert downlink_body(*args) == expected
    else:
        with pytest.raises(FormError, match=expected):
            downlink_body(*args)


def test_hex_fields_and_generated_identifiers() -> None:
    assert hex_value("DevEUI", "70:B3:D5:7E:D0:00:00:01", 16) == "70b3d57ed0000001"
    assert hex_value("NwkKey", "", 32, required=False) is None
    with pytest.raises(FormError, match="AppKey: expected 32 hexadecimal digits, got 4"):
        hex_value("AppKey", "abcd", 32)
    key, eui = new_key(), new_eui()
    assert len(key) == 32 and int(key, 16) >= 0
    assert len(eui) == 16 and int(eui[:2], 16) & 0x03 == 0x02  # local, unicast
    assert new_key() != key


# Where the appliance is, and how values read


def test_local_target_reads_the_data_directory(tmp_path: Path) -> None:
    target = Target(data_dir=tmp_path)
    with pytest.raises(NotReadyError, match=r"admin\.key is not there yet"):
        target.resolve()
    (tmp_path / "admin.key").write_text("secret\n")
    assert target.resolve() == ("http://127.0.0.1:8080", "secret")
    (tmp_path / "api.url").write_text("http://127.0.0.1:4242\n")
    assert target.resolve() == ("http://127.0.0.1:4242", "secret")
    (tmp_path / "api.url").write_text("localhost:1\n")
    with pytest.raises(TargetError, match="--url: expected"):
        target.resolve()
    assert Target(url="http://x:1", token="t").resolve() == ("http://x:1", "t")


def test_formatting() -> None:
    assert ago("2026-11-21T11:59:48Z", NOW) == "12s ago"
    assert ago("2026-11-21T09:00:00+00:00", NOW) == "3h ago"
    assert ago(None, NOW) == "-"
    assert ago("2026-11-21T12:00:01Z", NOW) == "now"
    assert clock_time("2026-11-21T11:59:10.250Z") == "11:59:10.250"
    assert size(12 * 1024**3) == "12.0 GiB"
    assert mask("2b7e151628aed2a6abf7158809cf4f3c") == "•" * 16


def test_the_state_and_the_client_load_without_textual() -> None:
    code = (
        "import sys, tui.client, tui.feed, tui.format, tui.target\n"
        "import tui.state.config_edit, tui.state.decode, tui.state.directory\n"
        "import tui.state.frame_log, tui.state.parts, tui.state.traffic\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'textual'))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
