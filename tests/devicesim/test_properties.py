"""Properties: nothing a radio can hand the device makes it raise, and frames stay legal."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from appliance.devicesim import DownlinkResult, EndDevice
from appliance.devicesim.uplink import compose_uplink
from appliance.lorawan import security
from appliance.lorawan.frames import MAX_F_OPTS_LEN, FCtrl
from appliance.lorawan.maccommands import (
    ALL_COMMAND_CLASSES,
    DevStatusAns,
    LinkADRAns,
    decode_mac_commands,
)
from appliance.lorawan.mhdr import MType

from .network import MS, Network, deliver, device, joined, next_tx, otaa_config, window

# Devices are built once: the properties probe them without leaving a mark on them, since a
# refused frame changes nothing; an accepted random frame is practically impossible (MIC).
_JOINED, _NETWORK, _ = joined(otaa_config("1.1"))
next_tx(_JOINED)
_JOINING = device(otaa_config("1.0.3"))
next_tx(_JOINING)


def _in_rx1(dev: EndDevice, payload: bytes) -> DownlinkResult:
    rx1 = window(dev, "RX1")
    return dev.on_downlink(payload, rx1.frequency, rx1.data_rate, rx1.open_ns + 20 * MS)


@given(st.binary(max_size=300))
def test_random_bytes_never_raise_for_a_joined_device(payload: bytes) -> None:
    result = _in_rx1(_JOINED, payload)
    assert not result.accepted and result.refusal is not None and result.reason


@given(st.binary(max_size=300))
def test_random_bytes_never_raise_for_a_joining_device(payload: bytes) -> None:
    result = _in_rx1(_JOINING, payload)
    assert not result.accepted and result.refusal is not None


@given(
    st.binary(max_size=64),
    st.integers(0, 2_000_000_000),
    st.integers(-5, 20),
    st.integers(-(10**12), 10**12),
)
def test_any_time_frequency_and_rate_never_raise(
    payload: bytes, frequency: int, data_rate: int, when: int
) -> None:
    assert isinstance(_JOINED.on_downlink(payload, frequency, data_rate, when), DownlinkResult)


@given(st.binary(min_size=1, max_size=15), st.booleans())
def test_valid_downlinks_with_arbitrary_mac_commands_never_raise(
    commands: bytes, on_port_0: bool
) -> None:
    dev, network, _ = joined(otaa_config("1.0.4"))
    network.read_uplink(next_tx(dev))
    keys = network.keys
    assert keys is not None

    port, f_opts, payload = (0, b"", commands) if on_port_0 else (None, commands, b"")
    frame = security.build_data_frame(
        MType.UNCONFIRMED_DATA_DOWN,
        network.dev_addr,
        keys,
        0,
        f_opts=f_opts,
        f_port=port,
        payload=payload,
    )
    result = deliver(dev, frame.encode())
    assert result.accepted
    parsed = decode_mac_commands(commands, uplink=False)
    assert len(result.mac_commands) <= len(parsed.commands)
    tx = next_tx(dev)  # whatever it was told, the device still sends a legal frame
    Network(keys=keys, next_f_cnt_up=1).read_uplink(tx)


@given(
    st.lists(st.sampled_from(range(1, 14)), max_size=12),
    st.binary(max_size=250),
    st.integers(19, 250),
    st.booleans(),
)
def test_composed_uplinks_respect_f_opts_and_the_data_rate(
    answer_sizes: list[int], data: bytes, max_mac_payload: int, may_defer: bool
) -> None:
    commands = tuple(
        DevStatusAns(1, 0) if size % 2 else LinkADRAns(True, True, True) for size in answer_sizes
    )
    plan = compose_uplink(
        f_cnt=0,
        f_ctrl=FCtrl(),
        commands=commands,
        application=(1, data),
        confirmed=False,
        max_mac_payload=max_mac_payload,
        may_defer=may_defer,
    )
    assert len(plan.f_opts) <= MAX_F_OPTS_LEN
    size = 7 + len(plan.f_opts) + (0 if plan.f_port is None else 1 + len(plan.payload))
    assert size <= max_mac_payload
    assert 0 <= plan.mac_count <= len(commands)


_DOWNLINK_COMMANDS = [cls for cls in ALL_COMMAND_CLASSES if not cls.UPLINK]
_ONE_COMMAND = st.sampled_from(_DOWNLINK_COMMANDS).flatmap(
    lambda cls: st.binary(min_size=cls.PAYLOAD_SIZE, max_size=cls.PAYLOAD_SIZE).map(
        lambda payload: bytes((cls.CID,)) + payload
    )
)
# Well-formed command sequences with arbitrary fields, cut to what FOpts holds.
_COMMANDS = st.lists(_ONE_COMMAND, min_size=1, max_size=6).map(lambda c: b"".join(c)[:15])


@settings(max_examples=25)
@given(st.lists(_COMMANDS, min_size=1, max_size=10))
def test_a_device_under_random_mac_commands_keeps_sending_legal_frames(
    batches: list[bytes],
) -> None:
    dev, network, _ = joined(otaa_config("1.0.4"))
    keys = network.keys
    assert keys is not None
    for f_cnt, commands in enumerate(batches):
        network.read_uplink(next_tx(dev))
        frame = security.build_data_frame(
            MType.UNCONFIRMED_DATA_DOWN, network.dev_addr, keys, f_cnt, f_opts=commands
        )
        deliver(dev, frame.encode())
    network.read_uplink(next_tx(dev))
