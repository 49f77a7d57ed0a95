"""Hybrid routing tables: which frames stay local and which go upstream."""

from __future__ import annotations

import pytest

from appliance.bridge import Mode, Route, RoutingPolicy, parse_bridge_config
from tests.bridge.helpers import data_phy, uplink

L, U = Route.LOCAL, Route.UPSTREAM

HYBRID = RoutingPolicy.from_config(
    parse_bridge_config(
        {
            "mode": "hybrid",
            "hybrid": {
                "local_dev_addr_prefixes": ["26011000/20", "fc00ac00/24"],
                "local_join_euis": ["70b3d57ed0000000-70b3d57ed00fffff", "0000000000000001"],
                "local_net_ids": ["000013"],
            },
        }
    )
)


def join_request(join_eui: int, dev_eui: int = 0x0102030405060708) -> bytes:
    return (
        b"\x00" + join_eui.to_bytes(8, "little") + dev_eui.to_bytes(8, "little") + b"\x01\x00MIC!"
    )


def rejoin(rejoin_type: int, network: int, size: int) -> bytes:
    return (
        bytes([0xC0, rejoin_type]) + network.to_bytes(size, "little") + bytes(8) + b"\x00\x00MIC!"
    )


@pytest.mark.parametrize(
    ("name", "phy", "route"),
    [
        ("data, first address of the local prefix", data_phy(0x26011000, 1), L),
        ("data, last address of the local prefix", data_phy(0x26011FFF, 1), L),
        ("data, just past the local prefix", data_phy(0x26012000, 1), U),
        ("data, the second local prefix", data_phy(0xFC00AC42, 1), L),
        ("data, someone else's network", data_phy(0x00ABCDEF, 1), U),
        ("confirmed data up", b"\x80" + data_phy(0x26011001, 1)[1:], L),
        ("confirmed data up, foreign", b"\x80" + data_phy(0x01000001, 1)[1:], U),
        ("join-request, local JoinEUI range start", join_request(0x70B3D57ED0000000), L),
        ("join-request, local JoinEUI range end", join_request(0x70B3D57ED00FFFFF), L),
        ("join-request, past the range", join_request(0x70B3D57ED0100000), U),
        ("join-request, the single local JoinEUI", join_request(1), L),
        ("join-request, foreign JoinEUI", join_request(0x0011223344556677), U),
        ("rejoin type 0, local NetID", rejoin(0, 0x000013, 3), L),
        ("rejoin type 2, foreign NetID", rejoin(2, 0x000001, 3), U),
        ("rejoin type 1, local JoinEUI", rejoin(1, 0x70B3D57ED0000042, 8), L),
        ("rejoin type 1, foreign JoinEUI", rejoin(1, 0x0011223344556677, 8), U),
        ("proprietary: upstream by default", b"\xe0\x01\x02\x03", U),
        ("malformed: empty", b"", L),
        ("malformed: short data frame", data_phy(0x00ABCDEF, 1)[:10], L),
        ("malformed: join-request of the wrong size", join_request(5)[:-1], L),
        ("malformed: rejoin of an unknown type", rejoin(3, 0, 3), L),
        ("malformed: a downlink type", b"\x60" + data_phy(0x00ABCDEF, 1)[1:], L),
        ("malformed: a join-accept", b"\x20" + bytes(16), L),
        ("malformed: major version 1", b"\x41" + data_phy(0x00ABCDEF, 1)[1:], L),
    ],
)
def test_hybrid_routes(name: str, phy: bytes, route: Route) -> None:
    assert HYBRID.decide_payload(phy) is route, name


def test_proprietary_frames_can_stay_local() -> None:
    policy = RoutingPolicy.from_config(
        parse_bridge_config({"mode": "hybrid", "hybrid": {"proprietary": "local"}})
    )
    assert policy.decide_payload(b"\xe0\x01") is Route.LOCAL


@pytest.mark.parametrize(("mode", "route"), [(Mode.FORWARDER, U), (Mode.OFF, L)])
def test_forwarder_sends_everything_up_and_off_keeps_everything(mode: Mode, route: Route) -> None:
    policy = RoutingPolicy(mode, HYBRID.rules)
    for frame in (uplink(0x26011001), uplink(0x00ABCDEF)):
        assert policy.decide(frame) is route


def test_hybrid_without_rules_sends_everything_up() -> None:
    policy = RoutingPolicy(Mode.HYBRID)
    assert policy.decide(uplink(0x26011001)) is U
    assert policy.decide_payload(join_request(1)) is U
