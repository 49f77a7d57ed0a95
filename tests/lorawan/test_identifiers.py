from __future__ import annotations

import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from appliance.lorawan.errors import InvalidValueError
from appliance.lorawan.identifiers import EUI64, AESKey, DevAddr, NetID


@pytest.mark.parametrize(
    "text",
    [
        "0102030405060708",
        "01-02-03-04-05-06-07-08",
        "01:02:03:04:05:06:07:08",
        "0x0102030405060708",
        " 0102 0304 0506 0708 ",
    ],
)
def test_eui64_accepts_the_ways_people_write_it(text: str) -> None:
    eui = EUI64(text)
    assert str(eui) == "0102030405060708"
    assert eui.dashed() == "01-02-03-04-05-06-07-08"
    assert eui.to_wire() == bytes.fromhex("0807060504030201")
    assert EUI64.from_wire(eui.to_wire()) == eui


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("01020304050607", "8 bytes"),
        ("010203040506070g", "not hexadecimal"),
        (b"\x00" * 9, "8 bytes"),
        (-1, "fit in 8 bytes"),
        (1.5, "hex text, bytes or int"),
    ],
)
def test_eui64_refuses_bad_input_with_a_clear_message(value: object, message: str) -> None:
    with pytest.raises(InvalidValueError, match=message):
        EUI64(value)  # type: ignore[arg-type]


def test_values_are_immutable_hashable_and_picklable() -> None:
    eui = EUI64(1)
    with pytest.raises(AttributeError):
        eui._raw = b"x"  # type: ignore[misc]
    assert {eui: 1}[EUI64("0000000000000001")] == 1
    assert pickle.loads(pickle.dumps(eui)) == eui
    assert EUI64(1) != DevAddr(1)
    assert sorted([EUI64(2), EUI64(1)]) == [EUI64(1), EUI64(2)]


def test_key_repr_does_not_leak_the_key() -> None:
    key = AESKey("2b7e151628aed2a6abf7158809cf4f3c")
    assert str(key) == "2b7e151628aed2a6abf7158809cf4f3c"
    assert "151628" not in repr(key)


# (NetID, NwkAddr, DevAddr): prefixes and NwkID widths per NetID type (Backend Interfaces 13).
DEV_ADDR_CASES = [
    ("000000", 0x1, "00000001"),
    ("000013", 0x5, "26000005"),  # TTN's NetID: the familiar 26/27 DevAddr prefix
    ("00003f", 0x1FFFFFF, "7fffffff"),
    ("200001", 0x1, "81000001"),
    ("400003", 0x1, "c0300001"),
    ("600001", 0x1, "e0020001"),
    ("800001", 0x1, "f0008001"),
    ("a00001", 0x1, "f8002001"),
    ("c00001", 0x1, "fc000401"),
    ("e00001", 0x1, "fe000081"),
]


@pytest.mark.parametrize(("net_id", "nwk_addr", "dev_addr"), DEV_ADDR_CASES)
def test_dev_addr_from_net_id(net_id: str, nwk_addr: int, dev_addr: str) -> None:
    nid = NetID(net_id)
    addr = DevAddr.from_net_id(nid, nwk_addr)
    assert str(addr) == dev_addr
    assert addr.net_id_type == nid.type
    assert addr.nwk_id == nid.nwk_id
    assert addr.nwk_addr == nwk_addr
    assert addr.is_net_id(nid)


def test_dev_addr_refuses_a_nwk_addr_too_wide_for_the_type() -> None:
    with pytest.raises(InvalidValueError, match="7 bits"):
        DevAddr.from_net_id(NetID("e00001"), 0x80)


@given(st.integers(0, 7), st.integers(0, (1 << 21) - 1), st.integers(0, (1 << 32) - 1))
def test_dev_addr_round_trips_through_its_net_id(net_type: int, ident: int, seed: int) -> None:
    net_id = NetID((net_type << 21) | ident)
    nwk_addr_bits = 32 - (net_type + 1) - (6, 6, 9, 11, 12, 13, 15, 17)[net_type]
    nwk_addr = seed & ((1 << nwk_addr_bits) - 1)
    addr = DevAddr.from_net_id(net_id, nwk_addr)
    assert addr.net_id_type == net_type
    assert addr.nwk_addr == nwk_addr
    assert addr.is_net_id(net_id)
