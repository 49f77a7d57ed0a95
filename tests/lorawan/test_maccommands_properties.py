"""Property tests: valid commands round-trip, and no byte string makes the decoder raise."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from appliance.lorawan.maccommands import (
    ALL_COMMAND_CLASSES,
    IntRange,
    MACCommand,
    decode_mac_commands,
    encode_mac_commands,
)


def _values(valid: IntRange) -> st.SearchStrategy[int]:
    return st.integers(valid.low // valid.step, valid.high // valid.step).map(
        lambda n: n * valid.step
    )


def commands_of(cls: type[MACCommand]) -> st.SearchStrategy[MACCommand]:
    fields: dict[str, st.SearchStrategy[object]] = {
        name: _values(valid) for name, valid in cls.INT_FIELDS.items()
    }
    fields.update({name: st.booleans() for name in cls.BOOL_FIELDS})
    return st.builds(cls, **fields)


def commands(uplink: bool | None = None) -> st.SearchStrategy[MACCommand]:
    classes = [c for c in ALL_COMMAND_CLASSES if uplink is None or c.UPLINK is uplink]
    return st.one_of([commands_of(cls) for cls in classes])


@given(commands())
def test_single_command_round_trips(command: MACCommand) -> None:
    wire = encode_mac_commands([command])
    assert len(wire) == 1 + command.PAYLOAD_SIZE
    parsed = decode_mac_commands(wire, uplink=command.UPLINK)
    assert parsed.complete
    assert parsed.commands == (command,)
    assert type(command).from_payload(command.payload()) == command


@pytest.mark.parametrize("uplink", [True, False], ids=["uplink", "downlink"])
@given(data=st.data())
def test_sequences_round_trip(uplink: bool, data: st.DataObject) -> None:
    sequence = tuple(data.draw(st.lists(commands(uplink), max_size=12)))
    wire = encode_mac_commands(sequence, uplink=uplink)
    parsed = decode_mac_commands(wire, uplink=uplink)
    assert parsed.complete
    assert parsed.remaining == b""
    assert parsed.commands == sequence


_KNOWN_CIDS = sorted({cls.CID for cls in ALL_COMMAND_CLASSES})

# Uniform bytes mostly stop at the first byte (few CIDs are defined), so also draw byte strings
# made mostly of known CIDs to push the decoder deep into long, ragged sequences.
_ragged_bytes = st.lists(
    st.one_of(st.sampled_from(_KNOWN_CIDS), st.integers(0, 255)), max_size=64
).map(bytes)


@pytest.mark.parametrize("uplink", [True, False], ids=["uplink", "downlink"])
@settings(max_examples=500)
@given(data=st.one_of(st.binary(max_size=64), _ragged_bytes))
def test_random_bytes_never_raise(uplink: bool, data: bytes) -> None:
    parsed = decode_mac_commands(data, uplink=uplink)
    consumed = encode_mac_commands(parsed.commands)
    # Decoded commands cover a prefix of the input (RFU bits aside), the rest is reported.
    assert len(consumed) + len(parsed.remaining) == len(data)
    assert data.endswith(parsed.remaining)
    if parsed.complete:
        assert parsed.remaining == b""
        assert parsed.unknown_cid is None
    else:
        assert parsed.remaining
        assert parsed.unknown_cid in (None, parsed.remaining[0])
    # What was decoded is stable: re-encoding and decoding again changes nothing.
    assert decode_mac_commands(consumed, uplink=uplink).commands == parsed.commands
    for command in parsed.commands:
        command.to_json()


@pytest.mark.parametrize("cls", [c for c in ALL_COMMAND_CLASSES if c.PAYLOAD_SIZE == 1])
def test_every_one_byte_payload_decodes(cls: type[MACCommand]) -> None:
    for value in range(256):
        command = cls.from_payload(bytes((value,)))
        assert type(command).from_payload(command.payload()) == command


@pytest.mark.parametrize("cls", [c for c in ALL_COMMAND_CLASSES if c.PAYLOAD_SIZE > 1])
@given(data=st.data())
def test_every_multi_byte_payload_decodes(cls: type[MACCommand], data: st.DataObject) -> None:
    payload = data.draw(st.binary(min_size=cls.PAYLOAD_SIZE, max_size=cls.PAYLOAD_SIZE))
    command = cls.from_payload(payload)
    assert type(command).from_payload(command.payload()) == command
