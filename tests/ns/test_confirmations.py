"""ACK timers of confirmed downlinks on a fake clock, and the gateways tried for an answer."""

from __future__ import annotations

from appliance.lorawan.identifiers import EUI64
from appliance.ns.downlink.confirmations import AckTimers, AwaitedAck
from appliance.ns.downlink.gateways import MAX_GATEWAYS_TRIED, gateway_alternatives
from appliance.ns.downlink.windows import RxWindow, still_reachable
from tests.ns.class_a import GW1, GW2, GW3, MS, SETTINGS, S, Uplink, data_up, deduplicated

A, B = EUI64(1), EUI64(2)


def test_a_wait_expires_at_its_deadline_once() -> None:
    timers = AckTimers()
    timers.arm(A, 5, deadline_ns=100)
    timers.arm(B, 7, deadline_ns=50)
    assert timers.next_deadline_ns() == 50
    assert timers.due(49) == []
    assert timers.due(50) == [AwaitedAck(B, 7, 50)]
    assert timers.due(1_000) == [AwaitedAck(A, 5, 100)]
    assert timers.due(2_000) == [] and timers.next_deadline_ns() is None and len(timers) == 0


def test_a_settled_wait_never_expires() -> None:
    timers = AckTimers()
    timers.arm(A, 5, deadline_ns=100)
    timers.settle(A)
    assert timers.next_deadline_ns() is None
    assert timers.due(1_000) == []


def test_a_new_confirmed_downlink_replaces_the_wait() -> None:
    timers = AckTimers()
    timers.arm(A, 5, deadline_ns=100)
    timers.arm(A, 6, deadline_ns=300)
    assert timers.next_deadline_ns() == 300
    assert timers.due(200) == []
    assert timers.due(300) == [AwaitedAck(A, 6, 300)]


WINDOWS = (
    RxWindow("rx1", 868_100_000, 5, 1 * S, 242),
    RxWindow("rx2", 869_525_000, 0, 2 * S, 59),
)


def test_windows_too_close_to_meet_are_left_out() -> None:
    assert still_reachable(WINDOWS, elapsed_ns=200 * MS, lead_ns=50 * MS) == WINDOWS
    assert still_reachable(WINDOWS, elapsed_ns=951 * MS, lead_ns=50 * MS) == WINDOWS[1:]
    assert still_reachable(WINDOWS, elapsed_ns=1_960 * MS, lead_ns=50 * MS) == ()


def test_every_gateway_that_heard_the_uplink_in_link_order_up_to_three() -> None:
    heard = Uplink(
        data_up(1),
        gateways=((GW2, 1.0, -90), (GW1, 9.0, -50), (GW3, 5.0, -70), (EUI64(0xA4), 0.0, -99)),
    )
    frames = list(
        gateway_alternatives(
            7,
            deduplicated(heard, 0),
            windows=WINDOWS,
            phy_payload=b"\x60" * 12,
            region=SETTINGS.region,
            settings=SETTINGS,
        )
    )
    assert [f.gateway_id for f in frames] == [GW1, GW3, GW2]
    assert len(frames) == MAX_GATEWAYS_TRIED
    assert {f.downlink_id for f in frames} == {7}
    assert all(len(f.items) == 2 for f in frames)
