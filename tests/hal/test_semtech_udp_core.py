"""The sans-IO protocol state: gateways, acknowledgements, downlinks and timers, by fake time."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from appliance.lorawan.identifiers import EUI64
from hal.model import (
    CodeRate,
    Delay,
    DownlinkFrame,
    DownlinkItem,
    DownlinkTxAck,
    DownlinkTxInfo,
    GatewayConnected,
    GatewayDisconnected,
    GatewayStats,
    LoRaModulation,
    LRFHSSModulation,
    TxAckStatus,
    UplinkFrame,
)
from hal.semtech_udp import (
    CoreConfig,
    CoreEvent,
    DownlinkResult,
    PullData,
    PullResp,
    PushData,
    SemtechUDPCore,
    TxAck,
    parse_packet,
)

GW = EUI64("0102030405060708")
OTHER = EUI64("aabbccddeeff0011")
UP = ("192.0.2.1", 40000)
DOWN = ("192.0.2.1", 40001)
S = 1_000_000_000
RXPK = {
    "tmst": 1000,
    "freq": 868.1,
    "stat": 1,
    "datr": "SF7BW125",
    "codr": "4/5",
    "rssi": -40,
    "lsnr": 9.5,
    "size": 2,
    "data": "AQI=",
}
STAT = {"time": "2014-01-12 08:59:28 GMT", "rxnb": 1, "rxok": 1}


def push(
    core: SemtechUDPCore,
    body: dict[str, Any],
    *,
    gw: EUI64 = GW,
    version: int = 2,
    token: int = 0x1234,
    now: int = 0,
    address: tuple[str, int] = UP,
) -> list[CoreEvent]:
    data = PushData(version, token, gw, json.dumps(body).encode()).encode()
    core.datagram_received(data, address, now, 1_700_000_000 * S)
    return core.events_to_deliver()


def pull(core: SemtechUDPCore, *, gw: EUI64 = GW, version: int = 2, now: int = 0) -> None:
    core.datagram_received(PullData(version, 0x4321, gw).encode(), DOWN, now, 0)


def frame(*items: DownlinkItem, downlink_id: int = 77, gw: EUI64 = GW) -> DownlinkFrame:
    return DownlinkFrame(downlink_id, gw, items or (item(),))


def item(sf: int = 9, delay_s: int = 1) -> DownlinkItem:
    modulation = LoRaModulation(125_000, sf, CodeRate.CR_4_5)
    tx_info = DownlinkTxInfo(868_100_000, 14, modulation, Delay(delay_s * S), context=b"\0\0\3\xe8")
    return DownlinkItem(b"\x60\x01", tx_info)


def results(core: SemtechUDPCore) -> list[DownlinkTxAck]:
    return [e.ack for e in core.events_to_deliver() if isinstance(e, DownlinkResult)]


def sent_pull_resps(core: SemtechUDPCore) -> list[tuple[PullResp, tuple[Any, ...]]]:
    out = []
    for data, address in core.datagrams_to_send():
        packet = parse_packet(data)
        if isinstance(packet, PullResp):
            out.append((packet, address))
    return out


def tx_ack(
    core: SemtechUDPCore, token: int, error: str = "", *, now: int = 0, gw: EUI64 = GW
) -> None:
    payload = json.dumps({"txpk_ack": {"error": error}}).encode() if error else b""
    core.datagram_received(TxAck(2, token, gw, payload).encode(), DOWN, now, 0)


def connected_gateway(version: int = 2) -> SemtechUDPCore:
    core = SemtechUDPCore()
    pull(core, version=version)
    core.datagrams_to_send()
    core.events_to_deliver()
    return core


@pytest.mark.parametrize("version", [1, 2])
def test_push_data_is_acknowledged_in_its_version_and_converted(version: int) -> None:
    core = SemtechUDPCore()
    events = push(core, {"rxpk": [RXPK, RXPK], "stat": STAT}, version=version)
    assert core.datagrams_to_send() == [(bytes((version, 0x34, 0x12, 0x01)), UP)]
    assert events[0] == GatewayConnected(GW, "semtech-udp", "192.0.2.1:40000")
    uplinks = [e for e in events[1:3] if isinstance(e, UplinkFrame)]
    assert [u.rx_info.uplink_id for u in uplinks] == [1, 2]
    assert uplinks[0].rx_info.ns_time_ns == 1_700_000_000 * S
    assert isinstance(events[3], GatewayStats)
    assert len(events) == 4
    assert core.drop_counts == {}


def test_stat_only_push_and_helium_style_location() -> None:
    core = SemtechUDPCore()
    events = push(core, {"stat": STAT})
    assert [type(e) for e in events] == [GatewayConnected, GatewayStats]
    events = push(core, {"rxpk": [RXPK], "stat": {"lati": 1.5, "long": 2.5}})
    uplink = events[0]
    assert isinstance(uplink, UplinkFrame)
    assert uplink.rx_info.location is not None
    assert (uplink.rx_info.location.latitude, uplink.rx_info.location.longitude) == (1.5, 2.5)


def test_pull_data_is_acknowledged_and_opens_the_downlink_path() -> None:
    core = SemtechUDPCore()
    pull(core, version=1)
    assert core.datagrams_to_send() == [(b"\x01\x21\x43\x04", DOWN)]
    assert core.pull_address(GW) == DOWN
    assert core.events_to_deliver() == [GatewayConnected(GW, "semtech-udp", "192.0.2.1:40001")]


def test_bad_entries_are_counted_and_the_good_ones_kept() -> None:
    core = SemtechUDPCore()
    bad_crc, no_crc = {**RXPK, "stat": -1}, {**RXPK, "stat": 0}
    events = push(core, {"rxpk": [RXPK, {**RXPK, "data": "!!"}, bad_crc, no_crc, 5]})
    assert sum(isinstance(e, UplinkFrame) for e in events) == 1
    assert core.drop_counts == {"bad_base64": 1, "crc_not_ok": 3}
    push(core, {"rxpk": {"not": "a list"}, "stat": "no"})
    assert core.drop_counts == {"bad_base64": 1, "crc_not_ok": 3, "bad_rxpk": 1, "bad_stat": 1}


def test_crc_errors_forwarded_when_configured() -> None:
    core = SemtechUDPCore(CoreConfig(forward_crc_errors=True))
    events = push(core, {"rxpk": [{**RXPK, "stat": -1}]})
    assert sum(isinstance(e, UplinkFrame) for e in events) == 1


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\x02\x00", "truncated"),
        (b"\x09\x00\x00\x00" + bytes(GW), "bad_version"),
        (b"\x02\x00\x00\x07" + bytes(GW), "unknown_type"),
        (b"\x02\x00\x00\x01", "unexpected_type"),
        (b"\x02\x00\x00\x00" + bytes(GW) + b"{nope", "bad_json"),
        (b"\x02\x00\x00\x00" + bytes(GW) + b"[1]", "bad_json"),
        (b"\x02\x00\x00\x00" + bytes(GW) + b"\xff\xfe{}", "bad_json"),
        (b"\x02\x00\x00\x00" + bytes(GW) + b"[" * 50_000, "bad_json"),
        (b"\x02\x00\x00\x00" + bytes(GW) + b" " * 65_500, "oversized"),
        (b"\x02\x00\x00\x02" + bytes(GW) + b"x", "bad_length"),
        (b"\x02\x00\x00\x05" + bytes(GW), "unexpected_tx_ack"),
    ],
)
def test_garbage_is_counted_by_reason(data: bytes, reason: str) -> None:
    core = SemtechUDPCore()
    core.datagram_received(data, UP, 0, 0)
    assert core.drop_counts == {reason: 1}
    assert core.datagrams_to_send() == []


def test_allow_list_refuses_unknown_gateways_silently() -> None:
    core = SemtechUDPCore(CoreConfig(allowed_gateways=frozenset({GW})))
    assert push(core, {"rxpk": [RXPK]}, gw=OTHER) == []
    pull(core, gw=OTHER)
    assert core.datagrams_to_send() == []
    assert core.drop_counts == {"unknown_gateway": 2}
    assert len(push(core, {"rxpk": [RXPK]})) == 2


def test_auto_registration_is_bounded() -> None:
    core = SemtechUDPCore(CoreConfig(max_gateways=2))
    for n in range(3):
        pull(core, gw=EUI64(n))
    assert len(core.gateway_ids()) == 2
    assert core.drop_counts == {"too_many_gateways": 1}


def test_silent_gateway_disconnects_and_can_come_back() -> None:
    core = SemtechUDPCore(CoreConfig(disconnect_after_ns=60 * S))
    push(core, {}, now=0)
    push(core, {}, gw=OTHER, now=30 * S)
    assert core.next_timer() == 60 * S
    core.handle_timers(59 * S)
    assert core.events_to_deliver() == []
    core.handle_timers(60 * S)
    assert core.events_to_deliver() == [
        GatewayDisconnected(GW, "semtech-udp", "no datagram for 60 s")
    ]
    assert core.next_timer() == 90 * S
    assert isinstance(push(core, {}, now=61 * S)[0], GatewayConnected)
    core.handle_timers(90 * S)
    assert [e.gateway_id for e in core.events_to_deliver()] == [OTHER]  # type: ignore[union-attr]


def test_tmst_is_widened_per_gateway_across_datagrams() -> None:
    core = SemtechUDPCore()
    first = push(core, {"rxpk": [{**RXPK, "tmst": 0xFFFF_FFF0}]})[1]
    second = push(core, {"rxpk": [{**RXPK, "tmst": 0x10}]})[0]
    assert isinstance(first, UplinkFrame) and isinstance(second, UplinkFrame)
    assert int(second.rx_info.metadata["tmst64"]) - int(first.rx_info.metadata["tmst64"]) == 0x20


def test_downlink_to_unknown_or_push_only_gateway_fails_every_item() -> None:
    core = SemtechUDPCore()
    core.send_downlink(frame(item(), item()), 0)
    assert [a.items for a in results(core)] == [(TxAckStatus.INTERNAL_ERROR,) * 2]
    push(core, {}, gw=OTHER)  # known, but without a PULL_DATA there is no route
    core.send_downlink(frame(item(), gw=OTHER), 0)
    assert [a.items for a in results(core)] == [(TxAckStatus.INTERNAL_ERROR,)]
    assert sent_pull_resps(core) == []


def test_version_2_downlink_waits_for_its_tx_ack() -> None:
    core = connected_gateway()
    handle = core.send_downlink(frame(item(), item(12, 2)), 0)
    [(resp, address)] = sent_pull_resps(core)
    assert address == DOWN
    assert resp.version == 2
    assert json.loads(resp.payload)["txpk"]["tmst"] == 1000 + 1_000_000
    assert results(core) == []
    tx_ack(core, resp.token + 1)  # someone else's token
    assert core.drop_counts == {"unexpected_tx_ack": 1}
    tx_ack(core, resp.token, gw=OTHER)  # right token, wrong gateway
    assert core.drop_counts == {"unexpected_tx_ack": 2}
    tx_ack(core, resp.token)
    [result] = [e for e in core.events_to_deliver() if isinstance(e, DownlinkResult)]
    assert result.handle == handle
    assert result.ack == DownlinkTxAck(GW, 77, (TxAckStatus.OK, TxAckStatus.IGNORED))


def test_refusal_moves_to_the_next_item() -> None:
    core = connected_gateway()
    core.send_downlink(frame(item(), item(12, 2), item(12, 3)), 0)
    [(first, _)] = sent_pull_resps(core)
    tx_ack(core, first.token, "TOO_LATE")
    [(second, _)] = sent_pull_resps(core)
    assert second.token != first.token
    assert json.loads(second.payload)["txpk"]["tmst"] == 1000 + 2_000_000
    assert results(core) == []
    tx_ack(core, second.token, "COLLISION_PACKET")
    [(third, _)] = sent_pull_resps(core)
    tx_ack(core, third.token)
    assert results(core)[0].items == (
        TxAckStatus.TOO_LATE,
        TxAckStatus.COLLISION_PACKET,
        TxAckStatus.OK,
    )


def test_every_item_refused() -> None:
    core = connected_gateway()
    core.send_downlink(frame(item(), item(12, 2)), 0)
    for error in ("TOO_LATE", "UNKNOWN"):
        [(resp, _)] = sent_pull_resps(core)
        tx_ack(core, resp.token, error)
    [ack] = results(core)
    assert ack.items == (TxAckStatus.TOO_LATE, TxAckStatus.INTERNAL_ERROR)
    assert ack.sent_item is None


def test_missing_tx_ack_times_out_without_trying_the_next_item() -> None:
    core = connected_gateway()
    core.send_downlink(frame(item(), item(12, 2)), now_ns=5 * S)
    [(resp, _)] = sent_pull_resps(core)
    assert core.next_timer() == 6 * S
    core.handle_timers(6 * S - 1)
    assert results(core) == []
    core.handle_timers(6 * S)
    assert results(core)[0].items == (TxAckStatus.INTERNAL_ERROR, TxAckStatus.IGNORED)
    assert sent_pull_resps(core) == []
    tx_ack(core, resp.token)  # too late to matter
    assert core.drop_counts == {"unexpected_tx_ack": 1}


def test_unreadable_tx_ack_is_dropped_and_the_downlink_times_out() -> None:
    core = connected_gateway()
    core.send_downlink(frame(), 0)
    [(resp, _)] = sent_pull_resps(core)
    core.datagram_received(TxAck(2, resp.token, GW, b"{broken").encode(), DOWN, 0, 0)
    assert core.drop_counts == {"bad_json": 1}
    core.handle_timers(S)
    assert results(core)[0].items == (TxAckStatus.INTERNAL_ERROR,)


def test_version_1_gateway_counts_sent_as_ok() -> None:
    core = connected_gateway(version=1)
    core.send_downlink(frame(item(), item(12, 2)), 0)
    [(resp, _)] = sent_pull_resps(core)
    assert (resp.version, resp.token) == (1, 0)
    assert results(core)[0].items == (TxAckStatus.OK, TxAckStatus.IGNORED)
    assert core.next_timer() is not None  # only the disconnect sweep
    assert core.next_timer() == 60 * S


def test_item_that_cannot_be_encoded_is_skipped() -> None:
    core = connected_gateway()
    fhss = DownlinkItem(
        b"\x01",
        DownlinkTxInfo(
            868_100_000,
            14,
            LRFHSSModulation(137_000, CodeRate.CR_2_6, 8),
            Delay(S),
            context=b"\0\0\0\0",
        ),
    )
    core.send_downlink(frame(fhss, item()), 0)
    [(resp, _)] = sent_pull_resps(core)
    tx_ack(core, resp.token)
    assert results(core)[0].items == (TxAckStatus.INTERNAL_ERROR, TxAckStatus.OK)


def test_downlinks_in_flight_are_bounded_per_gateway() -> None:
    core = SemtechUDPCore(CoreConfig(max_pending_per_gateway=2))
    pull(core)
    for downlink_id in range(3):
        core.send_downlink(frame(downlink_id=downlink_id), 0)
    assert [a.items for a in results(core)] == [(TxAckStatus.QUEUE_FULL,)]
    core.abort_downlinks()
    assert [a.items for a in results(core)] == [(TxAckStatus.INTERNAL_ERROR,)] * 2


def test_downlink_follows_the_latest_pull_address_and_version() -> None:
    core = connected_gateway()
    core.datagram_received(PullData(1, 1, GW).encode(), ("192.0.2.9", 1700), 0, 0)
    core.datagrams_to_send()
    core.send_downlink(frame(), 0)
    [(resp, address)] = sent_pull_resps(core)
    assert (resp.version, address) == (1, ("192.0.2.9", 1700))


header = st.tuples(st.sampled_from([1, 2]), st.integers(0, 0xFFFF), st.integers(0, 6))
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["rxpk", "stat", "txpk_ack", *RXPK]), children, max_size=5
        )
    ),
    max_leaves=25,
)


@given(st.binary(max_size=120))
def test_random_datagrams_never_raise(data: bytes) -> None:
    core = SemtechUDPCore()
    core.datagram_received(data, UP, 0, 0)
    core.handle_timers(10**12)


@given(header, json_values)
def test_random_json_in_valid_headers_never_raises(head: tuple[int, int, int], body: Any) -> None:
    core = connected_gateway()
    core.send_downlink(frame(), 0)
    version, token, kind = head
    data = bytes((version, token & 0xFF, token >> 8, kind)) + bytes(GW) + json.dumps(body).encode()
    core.datagram_received(data, UP, 0, 0)
    core.datagram_received(bytes((2, 1, 0, 5)) + bytes(GW) + json.dumps(body).encode(), DOWN, 0, 0)
    core.handle_timers(10**12)
    assert len(results(core)) <= 1
