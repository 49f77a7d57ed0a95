"""MAC-command sequences (registry, stop rules, strict mode, encoding) and field validation."""

from __future__ import annotations

import ast
import sys
from pathlib import Path
from typing import Any

import pytest

from appliance.lorawan import maccommands
from appliance.lorawan.errors import EncodeError, InvalidValueError, MACCommandError
from appliance.lorawan.maccommands import (
    ALL_COMMAND_CLASSES,
    MAX_FREQUENCY_HZ,
    BeaconTimingAns,
    DeviceModeInd,
    DeviceTimeAns,
    DeviceTimeReq,
    DevStatusAns,
    DevStatusReq,
    DlChannelAns,
    DutyCycleReq,
    ForceRejoinReq,
    LinkADRAns,
    LinkADRReq,
    LinkCheckAns,
    LinkCheckReq,
    MACCommand,
    MACCommandParse,
    NewChannelReq,
    PingSlotChannelReq,
    RXParamSetupReq,
    RXTimingSetupReq,
    TxParamSetupReq,
    command_class,
    decode_command,
    decode_mac_commands,
    decode_mac_commands_strict,
    encode_mac_commands,
)

UPLINK_CIDS = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D}
UPLINK_CIDS |= {0x0F, 0x10, 0x11, 0x12, 0x13, 0x20}
DOWNLINK_CIDS = UPLINK_CIDS | {0x0E}


def test_registry_has_every_command_once() -> None:
    assert len(ALL_COMMAND_CLASSES) == len(set(ALL_COMMAND_CLASSES)) == 39
    assert {c.CID for c in ALL_COMMAND_CLASSES if c.UPLINK} == UPLINK_CIDS
    assert {c.CID for c in ALL_COMMAND_CLASSES if not c.UPLINK} == DOWNLINK_CIDS
    for cls in ALL_COMMAND_CLASSES:
        assert command_class(cls.CID, cls.UPLINK) is cls


def test_command_class_by_direction() -> None:
    assert command_class(0x02, uplink=True) is LinkCheckReq
    assert command_class(0x02, uplink=False) is LinkCheckAns
    assert command_class(0x0E, uplink=False) is ForceRejoinReq
    # The answer to ForceRejoinReq is a Rejoin-request frame, not a MAC command.
    assert command_class(0x0E, uplink=True) is None
    for cid in (0x00, 0x14, 0x1F, 0x21, 0x42, 0x7F, 0x80, 0xFF):
        assert command_class(cid, uplink=True) is None
        assert command_class(cid, uplink=False) is None


def test_decode_command() -> None:
    assert decode_command(0x06, b"\x10\x05", uplink=True) == DevStatusAns(battery=16, margin=5)
    assert decode_command(0x06, b"", uplink=False) == DevStatusReq()
    with pytest.raises(MACCommandError, match="no uplink MAC command has CID 0x0E"):
        decode_command(0x0E, b"\x00\x00", uplink=True)
    with pytest.raises(MACCommandError, match="DevStatusAns payload must be 2 bytes, got 1"):
        decode_command(0x06, b"\x10", uplink=True)


UPLINK_SEQUENCE = (
    LinkADRAns(power_ack=True, data_rate_ack=True, channel_mask_ack=True),
    DevStatusAns(battery=200, margin=-5),
    DeviceTimeReq(),
    LinkCheckReq(),
)
UPLINK_SEQUENCE_WIRE = "03 07 06 c8 3b 0d 02"

# A US915-style LinkADRReq block: two commands applied together, then the status request.
DOWNLINK_SEQUENCE = (
    LinkADRReq(data_rate=3, tx_power=0, ch_mask=0x0000, ch_mask_cntl=7, nb_trans=1),
    LinkADRReq(data_rate=3, tx_power=0, ch_mask=0x00FF, ch_mask_cntl=0, nb_trans=1),
    DevStatusReq(),
    LinkCheckAns(margin=7, gw_count=2),
)
DOWNLINK_SEQUENCE_WIRE = "03 30 00 00 71 03 30 ff 00 01 06 02 07 02"


@pytest.mark.parametrize(
    ("uplink", "commands", "wire"),
    [
        (True, UPLINK_SEQUENCE, UPLINK_SEQUENCE_WIRE),
        (False, DOWNLINK_SEQUENCE, DOWNLINK_SEQUENCE_WIRE),
    ],
    ids=["uplink", "downlink"],
)
def test_sequences(uplink: bool, commands: tuple[MACCommand, ...], wire: str) -> None:
    data = bytes.fromhex(wire)
    assert encode_mac_commands(commands) == data
    assert encode_mac_commands(commands, uplink=uplink) == data
    assert decode_mac_commands(data, uplink=uplink) == MACCommandParse(commands)
    assert decode_mac_commands_strict(data, uplink=uplink) == commands


def test_the_same_bytes_mean_different_commands_per_direction() -> None:
    data = bytes.fromhex("02 0a 0f")
    assert decode_mac_commands(data, uplink=False).commands == (LinkCheckAns(10, 15),)
    assert decode_mac_commands(data, uplink=True).commands == (
        LinkCheckReq(),
        DlChannelAns(uplink_frequency_exists=True, channel_frequency_ok=True),
    )


def test_empty_input() -> None:
    for uplink in (True, False):
        parsed = decode_mac_commands(b"", uplink=uplink)
        assert parsed == MACCommandParse(commands=(), unknown_cid=None, remaining=b"", error=None)
        assert parsed.complete
    assert encode_mac_commands([]) == b""


def test_bytearray_and_memoryview_input() -> None:
    data = bytes.fromhex(UPLINK_SEQUENCE_WIRE)
    assert decode_mac_commands(bytearray(data), uplink=True).commands == UPLINK_SEQUENCE
    assert decode_mac_commands(memoryview(data), uplink=True).commands == UPLINK_SEQUENCE


def test_unknown_cid_stops_and_keeps_what_came_before() -> None:
    parsed = decode_mac_commands(bytes.fromhex("02 0d 42 01 02"), uplink=True)
    assert parsed.commands == (LinkCheckReq(), DeviceTimeReq())
    assert parsed.unknown_cid == 0x42
    assert parsed.remaining == bytes.fromhex("42 01 02")
    assert parsed.error == "unknown CID 0x42 at offset 2"
    assert not parsed.complete


def test_unknown_cid_first() -> None:
    parsed = decode_mac_commands(b"\x00", uplink=False)
    assert parsed == MACCommandParse((), 0x00, b"\x00", "unknown CID 0x00 at offset 0")


@pytest.mark.parametrize("cid", [0x80, 0xA5, 0xFF])
def test_proprietary_cid_stops(cid: int) -> None:
    data = bytes.fromhex("06") + bytes((cid, 1, 2, 3))
    parsed = decode_mac_commands(data, uplink=False)
    assert parsed.commands == (DevStatusReq(),)
    assert parsed.unknown_cid == cid
    assert parsed.remaining == data[1:]
    assert parsed.error is not None
    assert parsed.error.startswith(f"unknown CID 0x{cid:02X} at offset 1")
    assert "proprietary" in parsed.error


def test_wrong_direction_cid_is_explained() -> None:
    parsed = decode_mac_commands(bytes.fromhex("02 0e 25 1c"), uplink=True)
    assert parsed.commands == (LinkCheckReq(),)
    assert parsed.unknown_cid == 0x0E
    assert parsed.error == "unknown CID 0x0E at offset 1 (defined downlink only, as ForceRejoinReq)"


def test_truncated_command_stops() -> None:
    parsed = decode_mac_commands(bytes.fromhex("06 03 12 04"), uplink=False)
    assert parsed.commands == (DevStatusReq(),)
    assert parsed.unknown_cid is None
    assert parsed.remaining == bytes.fromhex("03 12 04")
    assert parsed.error == "LinkADRReq truncated: needs 4 bytes, 2 left (at offset 1)"


@pytest.mark.parametrize("cls", [c for c in ALL_COMMAND_CLASSES if c.PAYLOAD_SIZE])
def test_every_command_truncated_at_every_length(cls: type[MACCommand]) -> None:
    for available in range(cls.PAYLOAD_SIZE):
        data = bytes((cls.CID,)) + bytes(available)
        parsed = decode_mac_commands(data, uplink=cls.UPLINK)
        assert parsed.commands == ()
        assert parsed.unknown_cid is None
        assert parsed.remaining == data
        assert parsed.error == (
            f"{cls.__name__} truncated: needs {cls.PAYLOAD_SIZE} bytes, {available} left"
            " (at offset 0)"
        )


def test_strict_raises_on_incomplete_parse() -> None:
    with pytest.raises(MACCommandError, match=r"unknown CID 0x42 at offset 1"):
        decode_mac_commands_strict(bytes.fromhex("02 42"), uplink=True)
    with pytest.raises(MACCommandError, match="DevStatusAns truncated"):
        decode_mac_commands_strict(bytes.fromhex("06 01"), uplink=True)
    assert decode_mac_commands_strict(b"", uplink=True) == ()


def test_parse_to_json() -> None:
    parsed = decode_mac_commands(bytes.fromhex("02 80 01"), uplink=True)
    assert parsed.to_json() == {
        "commands": [{"cid": 2, "name": "LinkCheckReq"}],
        "unknown_cid": 0x80,
        "remaining": "8001",
        "error": parsed.error,
    }


def test_encode_rejects_the_wrong_direction() -> None:
    with pytest.raises(EncodeError, match="LinkADRAns is sent uplink, not downlink"):
        encode_mac_commands([LinkCheckAns(1, 1), LinkADRAns(True, True, True)], uplink=False)
    with pytest.raises(EncodeError, match="DevStatusReq is sent downlink, not uplink"):
        encode_mac_commands([DevStatusReq()], uplink=True)


def test_encode_rejects_non_commands() -> None:
    with pytest.raises(TypeError, match="not a MAC command"):
        encode_mac_commands([b"\x02"])  # type: ignore[list-item]


def test_encode_accepts_any_iterable() -> None:
    assert encode_mac_commands(c for c in UPLINK_SEQUENCE) == bytes.fromhex(UPLINK_SEQUENCE_WIRE)


@pytest.mark.parametrize(
    ("cls", "kwargs", "message"),
    [
        (LinkADRReq, {"data_rate": 16}, "LinkADRReq.data_rate must be 0..15, got 16"),
        (LinkADRReq, {"tx_power": -1}, "LinkADRReq.tx_power must be 0..15, got -1"),
        (LinkADRReq, {"ch_mask": 0x10000}, "LinkADRReq.ch_mask must be 0..65535, got 65536"),
        (LinkADRReq, {"ch_mask_cntl": 8}, "LinkADRReq.ch_mask_cntl must be 0..7, got 8"),
        (LinkADRReq, {"nb_trans": 16}, "LinkADRReq.nb_trans must be 0..15, got 16"),
        (DevStatusAns, {"margin": -33}, "DevStatusAns.margin must be -32..31, got -33"),
        (DevStatusAns, {"margin": 32}, "DevStatusAns.margin must be -32..31, got 32"),
        (DevStatusAns, {"battery": 256}, "DevStatusAns.battery must be 0..255, got 256"),
        (
            NewChannelReq,
            {"frequency_hz": 868_100_050},
            "NewChannelReq.frequency_hz must be a multiple of 100 in 0..1677721500, got 868100050",
        ),
        (
            NewChannelReq,
            {"frequency_hz": MAX_FREQUENCY_HZ + 100},
            "NewChannelReq.frequency_hz must be a multiple of 100 in 0..1677721500",
        ),
        (NewChannelReq, {"frequency_hz": -100}, "NewChannelReq.frequency_hz must be"),
        (NewChannelReq, {"ch_index": 256}, "NewChannelReq.ch_index must be 0..255"),
        (NewChannelReq, {"min_dr": 16}, "NewChannelReq.min_dr must be 0..15"),
        (RXParamSetupReq, {"rx1_dr_offset": 8}, "RXParamSetupReq.rx1_dr_offset must be 0..7"),
        (PingSlotChannelReq, {"data_rate": 16}, "PingSlotChannelReq.data_rate must be 0..15"),
        (DutyCycleReq, {"max_duty_cycle": 255}, "DutyCycleReq.max_duty_cycle must be 0..15"),
        (RXTimingSetupReq, {"delay": 16}, "RXTimingSetupReq.delay must be 0..15"),
        (TxParamSetupReq, {"max_eirp": 16}, "TxParamSetupReq.max_eirp must be 0..15"),
        (DeviceTimeAns, {"gps_seconds": 2**32}, "DeviceTimeAns.gps_seconds must be 0..4294967295"),
        (DeviceTimeAns, {"fraction": 256}, "DeviceTimeAns.fraction must be 0..255"),
        (ForceRejoinReq, {"rejoin_type": 8}, "ForceRejoinReq.rejoin_type must be 0..7"),
        (ForceRejoinReq, {"period": 8}, "ForceRejoinReq.period must be 0..7"),
        (BeaconTimingAns, {"delay": 0x10000}, "BeaconTimingAns.delay must be 0..65535"),
        (DeviceModeInd, {"device_class": 256}, "DeviceModeInd.device_class must be 0..255"),
        # Wrong types: a bool is not a number and a number is not a flag.
        (LinkADRReq, {"data_rate": True}, "LinkADRReq.data_rate must be 0..15, got True"),
        (LinkADRReq, {"data_rate": 1.0}, "LinkADRReq.data_rate must be 0..15, got 1.0"),
        (LinkADRReq, {"data_rate": "1"}, "LinkADRReq.data_rate must be 0..15, got '1'"),
        (LinkADRAns, {"power_ack": 1}, "LinkADRAns.power_ack must be a bool, got 1"),
        (TxParamSetupReq, {"uplink_dwell_time_400ms": None}, "must be a bool, got None"),
    ],
)
def test_validation(cls: type[MACCommand], kwargs: dict[str, Any], message: str) -> None:
    base = _valid_kwargs(cls)
    cls(**base)
    with pytest.raises(InvalidValueError) as caught:
        cls(**{**base, **kwargs})
    assert message in str(caught.value)
    # InvalidValueError is also a ValueError, for callers that only know the builtin.
    assert isinstance(caught.value, ValueError)


def _valid_kwargs(cls: type[MACCommand]) -> dict[str, Any]:
    values: dict[str, Any] = {name: valid.low for name, valid in cls.INT_FIELDS.items()}
    values.update(dict.fromkeys(cls.BOOL_FIELDS, False))
    return values


def test_package_imports_only_stdlib_and_the_errors_module() -> None:
    allowed_project = {"appliance.lorawan.errors"}
    package_dir = Path(maccommands.__file__).parent
    for path in sorted(package_dir.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top == "appliance":
                    assert name in allowed_project or name.startswith(
                        "appliance.lorawan.maccommands"
                    ), f"{path.name} imports {name}"
                else:
                    assert top in sys.stdlib_module_names, f"{path.name} imports {name}"
