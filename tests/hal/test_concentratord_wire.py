"""Concentratord messages of both generations, without sockets; and the backend's options."""

from __future__ import annotations

from typing import Any

import pytest
from chirpstack_api import gw

from hal.backend import BackendConfigError, create_backend
from hal.concentratord import (
    ConcentratordBackend,
    ConcentratordOptions,
    DroppedEvent,
    DropReason,
    WireProtocol,
    decode_event,
)
from hal.concentratord.wire import (
    configuration_command,
    downlink_command,
    gateway_id_command,
    gateway_id_from_reply,
    tx_ack_from_reply,
)
from hal.model import (
    Delay,
    DownlinkFrame,
    DownlinkItem,
    DownlinkTxAck,
    DownlinkTxInfo,
    GatewayConfiguration,
    GatewayStats,
    LoRaChannel,
    LoRaModulation,
    TxAckStatus,
)
from hal.proto import (
    ProtoConversionError,
    configuration_to_proto,
    downlink_to_proto,
    serialize_stats,
    serialize_tx_ack,
    serialize_uplink,
    uplink_to_proto,
)
from tests.hal.test_concentratord import GATEWAY, sample_uplink

SINGLE, MULTI = WireProtocol.SINGLE_FRAME, WireProtocol.MULTI_FRAME
FRAME = DownlinkFrame(
    9,
    GATEWAY,
    (
        DownlinkItem(
            b"\x60", DownlinkTxInfo(869_525_000, 27, LoRaModulation(125_000, 9), Delay(1))
        ),
        DownlinkItem(
            b"\x60", DownlinkTxInfo(868_100_000, 14, LoRaModulation(125_000, 7), Delay(2))
        ),
    ),
)
CONFIGURATION = GatewayConfiguration(GATEWAY, "v2", (LoRaChannel(868_100_000, 125_000, (7, 8)),))


def test_commands_of_both_generations() -> None:
    assert gateway_id_command(SINGLE) == [bytes.fromhex("1a00")]  # Command{get_gateway_id: {}}
    assert gateway_id_command(MULTI) == [b"gateway_id", b""]
    downlink = downlink_to_proto(FRAME)
    assert downlink_command(SINGLE, FRAME) == [
        gw.Command(send_downlink_frame=downlink).SerializeToString()
    ]
    assert downlink_command(MULTI, FRAME) == [b"down", downlink.SerializeToString()]
    configuration = configuration_to_proto(CONFIGURATION)
    assert configuration_command(SINGLE, CONFIGURATION) == [
        gw.Command(set_gateway_configuration=configuration).SerializeToString()
    ]
    assert configuration_command(MULTI, CONFIGURATION) == [
        b"config",
        configuration.SerializeToString(),
    ]


def test_gateway_id_replies() -> None:
    response = gw.GetGatewayIdResponse(gateway_id=str(GATEWAY)).SerializeToString()
    assert gateway_id_from_reply(SINGLE, [response]) == GATEWAY
    assert gateway_id_from_reply(MULTI, [bytes(GATEWAY)]) == GATEWAY
    # An empty reply is how either generation says "I did not understand that command".
    assert gateway_id_from_reply(SINGLE, [b""]) is None
    assert gateway_id_from_reply(MULTI, [b""]) is None


@pytest.mark.parametrize(
    ("protocol", "reply", "field"),
    [
        (SINGLE, [gw.GetGatewayIdResponse(gateway_id="xyz").SerializeToString()], "gateway_id"),
        (SINGLE, [b"\xff\xff"], "gw.GetGatewayIdResponse"),
        (MULTI, [b"\x01\x02\x03"], "gateway_id"),
        (MULTI, [b"a", b"b"], "reply"),
    ],
)
def test_bad_gateway_id_replies(protocol: WireProtocol, reply: list[bytes], field: str) -> None:
    with pytest.raises(ProtoConversionError) as caught:
        gateway_id_from_reply(protocol, reply)
    assert caught.value.field == field


def test_tx_ack_replies() -> None:
    ack = DownlinkTxAck(GATEWAY, 9, (TxAckStatus.TOO_LATE, TxAckStatus.OK))
    assert tx_ack_from_reply([serialize_tx_ack(ack)], FRAME) == ack
    # Concentratord answers nothing when it cannot turn the downlink into a radio packet.
    assert tx_ack_from_reply([b""], FRAME).items == (TxAckStatus.INTERNAL_ERROR,) * 2


@pytest.mark.parametrize(
    ("reply", "field"),
    [
        ([serialize_tx_ack(DownlinkTxAck(GATEWAY, 8, (TxAckStatus.OK,) * 2))], "downlink_id"),
        ([serialize_tx_ack(DownlinkTxAck(GATEWAY, 9, (TxAckStatus.OK,)))], "items"),
        ([b"\x12"], "gw.DownlinkTxAck"),
        ([], "reply"),
    ],
)
def test_tx_ack_replies_about_something_else_are_refused(reply: list[bytes], field: str) -> None:
    with pytest.raises(ProtoConversionError) as caught:
        tx_ack_from_reply(reply, FRAME)
    assert caught.value.field == field


def test_events_of_both_generations() -> None:
    uplink = sample_uplink()
    stats = GatewayStats(GATEWAY, rx_packets_received=4)
    single_up = gw.Event(uplink_frame=uplink_to_proto(uplink)).SerializeToString()
    assert decode_event([single_up]) == (SINGLE, uplink)
    assert decode_event([b"up", serialize_uplink(uplink)]) == (MULTI, uplink)
    assert decode_event([b"stats", serialize_stats(stats)]) == (MULTI, stats)


def _event(**event: Any) -> bytes:
    return bytes(gw.Event(**event).SerializeToString())


BAD_UPLINK = gw.UplinkFrame(rx_info={"gateway_id": "not-hex"}, tx_info={})


@pytest.mark.parametrize(
    ("frames", "reason"),
    [
        ([b"\xff\xff"], DropReason.UNDECODABLE),
        ([_event(uplink_frame=BAD_UPLINK)], DropReason.INVALID_UPLINK),
        ([_event(gateway_stats={"gateway_id": "01"})], DropReason.INVALID_STATS),
        ([_event(mesh={"gateway_id": str(GATEWAY)})], DropReason.UNSUPPORTED_EVENT),
        ([b""], DropReason.UNKNOWN_EVENT),
        ([b"\xa2\x06\x00"], DropReason.UNKNOWN_EVENT),  # field 100: a future event kind
        ([b"up", b"\xff"], DropReason.UNDECODABLE),
        ([b"up", BAD_UPLINK.SerializeToString()], DropReason.INVALID_UPLINK),
        ([b"stats", b""], DropReason.INVALID_STATS),
        ([b"mesh", b""], DropReason.UNKNOWN_EVENT),
        ([], DropReason.FRAME_COUNT),
        ([b"up", b"", b""], DropReason.FRAME_COUNT),
    ],
)
def test_malformed_events_say_why(frames: list[bytes], reason: DropReason) -> None:
    _, result = decode_event(frames)
    assert isinstance(result, DroppedEvent)
    assert result.reason is reason


def test_options_defaults_and_registry() -> None:
    options = ConcentratordOptions.from_mapping({})
    assert options.event_url == "ipc:///tmp/concentratord_event"
    assert options.command_url == "ipc:///tmp/concentratord_command"
    assert (options.protocol, options.command_timeout_s) == (WireProtocol.AUTO, 1.0)
    backend = create_backend("concentratord", {"protocol": "multi-frame", "max_queue": 5})
    assert isinstance(backend, ConcentratordBackend)
    assert backend.options.protocol is MULTI
    assert backend.protocol is MULTI
    assert backend.name == "concentratord"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"evnt_url": "ipc:///x"}, "unknown option.*evnt_url"),
        ({"event_url": "/tmp/x"}, "event_url must be a ZeroMQ endpoint"),
        ({"command_url": 5}, "command_url must be a ZeroMQ endpoint"),
        ({"protocol": "two-frame"}, "protocol must be one of 'auto', 'single-frame'"),
        ({"command_timeout_s": 0}, "command_timeout_s must be a positive"),
        ({"start_timeout_s": True}, "start_timeout_s must be a number"),
        ({"max_queue": 0}, "max_queue must be a positive integer"),
    ],
)
def test_bad_options_name_the_option(options: dict[str, Any], message: str) -> None:
    with pytest.raises(BackendConfigError, match=message):
        ConcentratordBackend(options)
