"""Frame model <-> chirpstack-api protobuf: round trips, hand-built messages, malformed input."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from chirpstack_api import common, gw
from google.protobuf import duration_pb2  # type: ignore[import-untyped]
from hypothesis import given
from hypothesis import strategies as st

from appliance.lorawan.identifiers import EUI64
from hal import proto
from hal.model import (
    CodeRate,
    CRCStatus,
    Delay,
    DownlinkFrame,
    DownlinkItem,
    DownlinkTxAck,
    DownlinkTxInfo,
    FSKChannel,
    FSKModulation,
    GatewayConfiguration,
    GatewayStats,
    GPSEpoch,
    Immediately,
    Location,
    LocationSource,
    LoRaChannel,
    LoRaModulation,
    LRFHSSModulation,
    TxAckStatus,
    UplinkFrame,
    UplinkRxInfo,
    UplinkTxInfo,
)
from hal.proto import ProtoConversionError

GATEWAY = "0102030405060708"
NS = 1_000_000_000
TIMESTAMP_NS = st.integers(-62_135_596_800 * NS, 253_402_300_800 * NS - 1)
DURATION_NS = st.integers(-315_576_000_000 * NS - NS + 1, 315_576_000_000 * NS + NS - 1)
U32 = st.integers(0, 2**32 - 1)
I32 = st.integers(-(2**31), 2**31 - 1)
EUIS = st.binary(min_size=8, max_size=8).map(EUI64)
DOUBLES = st.floats(allow_nan=False, allow_infinity=False)
TEXT = st.text(max_size=6)
# What radios report: decimals of at most six significant digits (a float32 holds six exactly).
RADIO_FLOATS = st.builds(
    lambda n, e: float(f"{n}e{e}"), st.integers(-999_999, 999_999), st.integers(-8, 3)
)


def optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


MODULATIONS = st.one_of(
    st.builds(
        LoRaModulation,
        st.sampled_from([7_800, 125_000, 250_000, 500_000, 812_500, 1_625_000]),
        st.integers(5, 12),
        st.sampled_from(CodeRate),
        st.booleans(),
        st.integers(0, 0xFFFF),
        st.booleans(),
    ),
    st.builds(FSKModulation, st.integers(500, 300_000), st.integers(0, 200_000)),
    st.builds(LRFHSSModulation, U32, st.sampled_from(CodeRate), U32),
)
LOCATIONS = st.builds(
    Location, DOUBLES, DOUBLES, DOUBLES, st.sampled_from(LocationSource), RADIO_FLOATS
)
UPLINKS = st.builds(
    UplinkFrame,
    st.binary(max_size=24),
    st.builds(UplinkTxInfo, U32, MODULATIONS),
    st.builds(
        UplinkRxInfo,
        gateway_id=EUIS,
        uplink_id=U32,
        rssi=I32,
        snr=RADIO_FLOATS,
        channel=U32,
        rf_chain=U32,
        board=U32,
        antenna=U32,
        context=st.binary(max_size=8),
        crc_status=st.sampled_from(CRCStatus),
        gw_time_ns=optional(TIMESTAMP_NS),
        ns_time_ns=optional(TIMESTAMP_NS),
        time_since_gps_epoch_ns=optional(DURATION_NS),
        fine_time_since_gps_epoch_ns=optional(DURATION_NS),
        location=optional(LOCATIONS),
        metadata=st.dictionaries(TEXT, TEXT, max_size=3),
    ),
)
TIMINGS = st.one_of(
    st.just(Immediately()),
    st.builds(Delay, st.integers(0, 315_576_000_000 * NS)),
    st.builds(GPSEpoch, DURATION_NS),
)
ITEMS = st.builds(
    DownlinkItem,
    st.binary(max_size=24),
    st.builds(DownlinkTxInfo, U32, I32, MODULATIONS, TIMINGS, U32, U32, st.binary(max_size=8)),
)
DOWNLINKS = st.builds(DownlinkFrame, U32, EUIS, st.lists(ITEMS, min_size=1, max_size=3).map(tuple))
ACKS = st.builds(
    DownlinkTxAck, EUIS, U32, st.lists(st.sampled_from(TxAckStatus), max_size=3).map(tuple)
)
PER_MODULATION = st.lists(st.tuples(MODULATIONS, U32), max_size=2).map(tuple)
STATS = st.builds(
    GatewayStats,
    EUIS,
    optional(TIMESTAMP_NS),
    optional(LOCATIONS),
    TEXT,
    U32,
    U32,
    U32,
    U32,
    st.dictionaries(TEXT, TEXT, max_size=2),
    st.dictionaries(U32, U32, max_size=2),
    st.dictionaries(U32, U32, max_size=2),
    PER_MODULATION,
    PER_MODULATION,
    st.dictionaries(TEXT, U32, max_size=2),
)
CHANNELS = st.one_of(
    st.builds(LoRaChannel, U32, U32, st.lists(U32, max_size=6).map(tuple)),
    st.builds(FSKChannel, U32, U32, U32),
)
CONFIGURATIONS = st.builds(
    GatewayConfiguration,
    EUIS,
    TEXT,
    st.lists(CHANNELS, max_size=3).map(tuple),
    st.integers(-315_576_000_000, 315_576_000_000),
)

Fn = Callable[..., Any]


@dataclass(frozen=True)
class Kind:
    models: st.SearchStrategy[Any]
    to_proto: Fn
    from_proto: Fn
    serialize: Fn
    parse: Fn
    to_json: Fn
    from_json: Fn


def _kind(name: str, models: st.SearchStrategy[Any]) -> Kind:
    # Every kind has the same six functions, named after it.
    functions = [f"{name}_to_proto", f"{name}_from_proto", f"serialize_{name}", f"parse_{name}"]
    functions += [f"{name}_to_json", f"{name}_from_json"]
    return Kind(models, *(getattr(proto, function) for function in functions))


KINDS = {
    "uplink": _kind("uplink", UPLINKS),
    "downlink": _kind("downlink", DOWNLINKS),
    "tx_ack": _kind("tx_ack", ACKS),
    "stats": _kind("stats", STATS),
    "configuration": _kind("configuration", CONFIGURATIONS),
}


@pytest.mark.parametrize("kind", KINDS.values(), ids=KINDS.keys())
@given(data=st.data())
def test_model_survives_proto_bytes_and_json(kind: Kind, data: st.DataObject) -> None:
    model = data.draw(kind.models)
    assert kind.from_proto(kind.to_proto(model)) == model
    assert kind.parse(kind.serialize(model)) == model
    assert kind.from_json(kind.to_json(model)) == model


@pytest.mark.parametrize("kind", KINDS.values(), ids=KINDS.keys())
@given(data=st.data())
def test_damaged_input_raises_only_conversion_errors(kind: Kind, data: st.DataObject) -> None:
    wire = bytearray(kind.serialize(data.draw(kind.models)))
    for _ in range(data.draw(st.integers(1, 4))):
        if wire:
            wire[data.draw(st.integers(0, len(wire) - 1))] = data.draw(st.integers(0, 255))
    text = kind.to_json(data.draw(kind.models))
    cut = data.draw(st.integers(0, len(text)))
    damaged_text = text[:cut] + data.draw(st.sampled_from(["x", "}", '"', "9", "[]"])) + text[cut:]
    for damaged, decode in ((bytes(wire), kind.parse), (damaged_text, kind.from_json)):
        with contextlib.suppress(ProtoConversionError):
            decode(damaged)


def test_uplink_as_concentratord_sends_it() -> None:
    message = gw.UplinkFrame(
        phy_payload=b"\x40\x01\x02\x03\x04\x00\x01\x00",
        tx_info=gw.UplinkTxInfo(
            frequency=868_100_000,
            modulation=gw.Modulation(
                lora=gw.LoraModulationInfo(bandwidth=125_000, spreading_factor=7, code_rate=1)
            ),
        ),
        rx_info=gw.UplinkRxInfo(
            gateway_id="AA555A0000000101",
            uplink_id=42,
            rssi=-57,
            snr=9.8,
            channel=2,
            context=b"\x00\x0f\x42\x40",
            crc_status=gw.CRC_OK,
            gw_time={"seconds": 1_700_000_000, "nanos": 5},
            time_since_gps_epoch={"seconds": 1_384_035_218, "nanos": 5},
            metadata={"region_config_id": "eu868"},
        ),
    )
    frame = proto.uplink_from_proto(message)
    assert frame.tx_info == UplinkTxInfo(868_100_000, LoRaModulation(125_000, 7, CodeRate.CR_4_5))
    rx = frame.rx_info
    assert rx.gateway_id == EUI64("aa555a0000000101")
    assert (rx.uplink_id, rx.rssi, rx.snr, rx.channel) == (42, -57, 9.8, 2)
    assert rx.context == b"\x00\x0f\x42\x40"
    assert rx.gw_time_ns == 1_700_000_000_000_000_005
    assert rx.time_since_gps_epoch_ns == 1_384_035_218_000_000_005
    assert (rx.ns_time_ns, rx.fine_time_since_gps_epoch_ns, rx.location) == (None, None, None)
    assert rx.metadata == {"region_config_id": "eu868"}
    # The lower-case form goes back out; everything else is the same message.
    message.rx_info.gateway_id = "aa555a0000000101"
    assert proto.uplink_to_proto(frame) == message


def test_downlink_timings_as_chirpstack_builds_them() -> None:
    def item(**timing: Any) -> Any:
        return gw.DownlinkFrameItem(
            phy_payload=b"\x60",
            tx_info=gw.DownlinkTxInfo(
                frequency=869_525_000,
                power=27,
                modulation=gw.Modulation(fsk=gw.FskModulationInfo(datarate=50_000)),
                timing=gw.Timing(**timing),
                context=b"\x01\x02\x03\x04",
            ),
        )

    message = gw.DownlinkFrame(
        downlink_id=7,
        gateway_id=GATEWAY,
        items=[
            item(delay=gw.DelayTimingInfo(delay={"seconds": 1})),
            item(
                gps_epoch=gw.GPSEpochTimingInfo(time_since_gps_epoch={"seconds": -1, "nanos": -5})
            ),
            item(immediately=gw.ImmediatelyTimingInfo()),
        ],
    )
    frame = proto.downlink_from_proto(message)
    assert [i.tx_info.timing for i in frame.items] == [
        Delay(NS),
        GPSEpoch(-NS - 5),
        Immediately(),
    ]
    assert frame.items[0].tx_info.modulation == FSKModulation(50_000)
    assert proto.downlink_to_proto(frame) == message


def test_tx_ack_wire_bytes_both_ways() -> None:
    ack = DownlinkTxAck(EUI64(GATEWAY), 1, (TxAckStatus.OK, TxAckStatus.TOO_LATE))
    wire = bytes.fromhex("10012a0208012a020802" + "3210" + GATEWAY.encode().hex())
    assert proto.serialize_tx_ack(ack) == wire
    assert proto.parse_tx_ack(wire) == ack
    assert '"status": "TOO_LATE"' in proto.tx_ack_to_json(ack)


def test_stats_and_configuration_from_hand_built_messages() -> None:
    lora = gw.Modulation(lora=gw.LoraModulationInfo(bandwidth=125_000, spreading_factor=12))
    stats = proto.stats_from_proto(
        gw.GatewayStats(
            gateway_id=GATEWAY,
            time={"seconds": 10},
            location=common.Location(latitude=52.1, longitude=5.2, source=common.GPS),
            rx_packets_received=3,
            tx_packets_per_frequency={868_100_000: 2},
            rx_packets_per_modulation=[gw.PerModulationCount(modulation=lora, count=3)],
            tx_packets_per_status={"OK": 2},
        )
    )
    assert stats.time_ns == 10 * NS
    assert stats.location == Location(52.1, 5.2, source=LocationSource.GPS)
    assert stats.tx_packets_per_frequency == {868_100_000: 2}
    assert stats.rx_packets_per_modulation == ((LoRaModulation(125_000, 12, CodeRate(0)), 3),)
    assert stats.tx_packets_per_status == {"OK": 2}

    message = gw.GatewayConfiguration(
        gateway_id=GATEWAY,
        version="v1",
        channels=[
            gw.ChannelConfiguration(
                frequency=868_100_000,
                lora_modulation_config=gw.LoraModulationConfig(
                    bandwidth=125_000, spreading_factors=[7, 8]
                ),
            ),
            gw.ChannelConfiguration(
                frequency=868_800_000,
                fsk_modulation_config=gw.FskModulationConfig(bandwidth=125_000, bitrate=50_000),
            ),
        ],
        stats_interval={"seconds": 30},
    )
    configuration = proto.configuration_from_proto(message)
    assert configuration == GatewayConfiguration(
        EUI64(GATEWAY),
        "v1",
        (LoRaChannel(868_100_000, 125_000, (7, 8)), FSKChannel(868_800_000, 125_000, 50_000)),
        30,
    )
    assert proto.configuration_to_proto(configuration) == message


def test_float32_fields_come_back_as_the_shortest_decimal() -> None:
    message = proto.uplink_to_proto(_minimal_uplink())
    message.rx_info.snr = 9.800000190734863
    assert proto.uplink_from_proto(message).rx_info.snr == 9.8


def test_the_largest_float32_comes_back_as_itself() -> None:
    # Its shortest decimals (3.4e38...) round past the largest float32: struct refused them.
    largest = 3.4028234663852886e38
    for value in (largest, -largest):
        message = proto.uplink_to_proto(_minimal_uplink())
        message.rx_info.snr = value
        assert proto.uplink_from_proto(message).rx_info.snr == value


def _minimal_uplink() -> UplinkFrame:
    return UplinkFrame(
        b"", UplinkTxInfo(868_100_000, LoRaModulation(125_000, 7)), UplinkRxInfo(EUI64(GATEWAY))
    )


def _uplink(change: Callable[[Any], None]) -> Any:
    message = proto.uplink_to_proto(_minimal_uplink())
    change(message)
    return message


def _downlink(change: Callable[[Any], None]) -> Any:
    frame = DownlinkFrame(
        1,
        EUI64(GATEWAY),
        (
            DownlinkItem(
                b"", DownlinkTxInfo(868_100_000, 14, LoRaModulation(125_000, 7), Delay(NS))
            ),
        ),
    )
    message = proto.downlink_to_proto(frame)
    change(message)
    return message


_CLEAR = object()


def _change(path: str, value: Any = _CLEAR) -> Callable[[Any], None]:
    """Set (or clear) the field at the dotted ``path`` of a message; digits index lists."""

    def change(message: Any) -> None:
        *parents, name = path.split(".")
        for parent in parents:
            message = message[int(parent)] if parent.isdigit() else getattr(message, parent)
        if value is _CLEAR:
            message.ClearField(name)
        else:
            setattr(message, name, value)

    return change


def _bad_duration(message: Any) -> None:
    message.rx_info.time_since_gps_epoch.CopyFrom(duration_pb2.Duration(seconds=1, nanos=-5))


DAMAGED_UPLINKS = [
    (_change("tx_info"), "tx_info"),
    (_change("rx_info"), "rx_info"),
    (_change("tx_info.modulation"), "tx_info.modulation"),
    (_change("tx_info.modulation.lora"), "tx_info.modulation"),
    (_change("rx_info.gateway_id", "zz02030405060708"), "rx_info.gateway_id"),
    (_change("rx_info.gateway_id", "01-02-03-04-05-06-07-08"), "rx_info.gateway_id"),
    (_change("rx_info.crc_status", 7), "rx_info.crc_status"),
    (_change("tx_info.modulation.lora.code_rate", 99), "tx_info.modulation.lora.code_rate"),
    (_change("tx_info.modulation.lora.spreading_factor", 13), "tx_info.modulation.lora"),
    (_change("rx_info.gw_time.nanos", -1), "rx_info.gw_time"),
    (_change("rx_info.ns_time.seconds", 2**40), "rx_info.ns_time"),
    (_bad_duration, "rx_info.time_since_gps_epoch"),
    (_change("rx_info.snr", math.nan), "rx_info.snr"),
    (_change("rx_info.location.source", 42), "rx_info.location.source"),
]
DELAY = "items.0.tx_info.timing.delay.delay"
DAMAGED_DOWNLINKS = [
    (_change("items"), "items"),
    (_change("gateway_id", ""), "gateway_id"),
    (_change("items.0.tx_info"), "items[0].tx_info"),
    (_change("items.0.tx_info.timing"), "items[0].tx_info.timing"),
    (_change(DELAY), "items[0].tx_info.timing.delay.delay"),
    (_change(f"{DELAY}.seconds", -1), "items[0].tx_info.timing.delay.delay"),
]
MALFORMED: list[tuple[Fn, Any, str]] = [
    *((proto.uplink_from_proto, _uplink(change), field) for change, field in DAMAGED_UPLINKS),
    *((proto.downlink_from_proto, _downlink(change), field) for change, field in DAMAGED_DOWNLINKS),
    (
        proto.tx_ack_from_proto,
        gw.DownlinkTxAck(gateway_id=GATEWAY, items=[{}, {"status": 99}]),
        "items[1].status",
    ),
    (
        proto.stats_from_proto,
        gw.GatewayStats(gateway_id=GATEWAY, rx_packets_per_modulation=[{}]),
        "rx_packets_per_modulation[0].modulation",
    ),
    (
        proto.configuration_from_proto,
        gw.GatewayConfiguration(gateway_id=GATEWAY, channels=[{}]),
        "channels[0]",
    ),
    (
        proto.configuration_from_proto,
        gw.GatewayConfiguration(gateway_id=GATEWAY, stats_interval={"nanos": 5}),
        "stats_interval",
    ),
    (proto.parse_uplink, b"\xff\xff", "gw.UplinkFrame"),
    (proto.parse_stats, b"\x0a", "gw.GatewayStats"),
    (proto.downlink_from_json, '{"downlinkId": ', "gw.DownlinkFrame"),
    (proto.tx_ack_from_json, '{"gatewayId": 5}', "gw.DownlinkTxAck"),
    (proto.uplink_from_json, "[" * 100_000, "gw.UplinkFrame"),
]


@pytest.mark.parametrize(("convert", "value", "field"), MALFORMED)
def test_malformed_input_names_the_field(convert: Fn, value: Any, field: str) -> None:
    with pytest.raises(ProtoConversionError) as caught:
        convert(value)
    assert caught.value.field == field
    assert str(caught.value).startswith(f"{field}: ")


def test_json_skips_unknown_fields_and_enum_names_like_the_gateway_bridge() -> None:
    text = f'{{"gatewayId": "{GATEWAY}", "items": [{{"status": "FROM_THE_FUTURE"}}], "new": 1}}'
    assert proto.tx_ack_from_json(text) == DownlinkTxAck(EUI64(GATEWAY), 0, (TxAckStatus.IGNORED,))


def _with_rx(**changes: Any) -> UplinkFrame:
    frame = _minimal_uplink()
    rx = UplinkRxInfo(**{"gateway_id": frame.rx_info.gateway_id, **changes})
    return UplinkFrame(frame.phy_payload, frame.tx_info, rx)


UNREPRESENTABLE: list[tuple[Fn, Any, str]] = [
    (proto.uplink_to_proto, _with_rx(rssi=2**31), "rx_info.rssi"),
    (proto.uplink_to_proto, _with_rx(snr=1e39), "rx_info.snr"),
    (proto.uplink_to_proto, _with_rx(uplink_id=-1), "rx_info.uplink_id"),
    (proto.uplink_to_proto, _with_rx(gw_time_ns=10**30), "rx_info.gw_time"),
    (
        proto.uplink_to_proto,
        _with_rx(location=Location(float("inf"), 0.0)),
        "rx_info.location.latitude",
    ),
    (proto.tx_ack_to_proto, DownlinkTxAck(EUI64(1), -1, ()), "downlink_id"),
    (
        proto.stats_to_proto,
        GatewayStats(EUI64(1), rx_packets_per_frequency={-1: 1}),
        "rx_packets_per_frequency key",
    ),
    (
        proto.stats_to_proto,
        GatewayStats(EUI64(1), tx_packets_per_status={"OK": 2**32}),
        "tx_packets_per_status['OK']",
    ),
    (
        proto.configuration_to_proto,
        GatewayConfiguration(EUI64(1), "", (LoRaChannel(1, 1, (-7,)),)),
        "channels[0].spreading_factors",
    ),
]


@pytest.mark.parametrize(("convert", "value", "field"), UNREPRESENTABLE)
def test_model_values_that_do_not_fit_name_the_field(convert: Fn, value: Any, field: str) -> None:
    with pytest.raises(ProtoConversionError) as caught:
        convert(value)
    assert caught.value.field == field
