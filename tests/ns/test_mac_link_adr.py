"""LinkADRReq/Ans: channel-mask blocks per region, the answer of a block, and the requests
ADR and the network's channel plan produce."""

from __future__ import annotations

import pytest

from appliance.lorawan.errors import InvalidValueError
from appliance.lorawan.maccommands import LinkADRAns, LinkADRReq
from appliance.lorawan.regions import get_region
from appliance.ns.adr import ADRRequest, ADRResult, builtin_registry
from appliance.ns.mac import MACEvent, RequestAcknowledged, UplinkMeta, pending_requests
from appliance.ns.mac.channel_mask import apply_mask_blocks, mask_blocks, wanted_channels
from appliance.ns.mac.link_adr import adr_request
from appliance.ns.network import NetworkSettings
from appliance.ns.session import ExtraChannel, UplinkHistoryEntry
from tests.ns.test_mac_support import Scenario, check, make_ctx, make_session, run

US915 = get_region("US915")
ALL_72 = tuple(range(72))
SUB_BAND_1 = (*range(8), 64)
SUB_BAND_2 = (*range(8, 16), 65)


def _reqs(blocks: list[tuple[int, int]], dr: int = 0, tx: int = 0, nb: int = 1) -> list[LinkADRReq]:
    return [LinkADRReq(dr, tx, mask, cntl, nb) for cntl, mask in blocks]


@pytest.mark.parametrize(
    ("device", "wanted", "expected"),
    [
        (ALL_72, ALL_72, []),
        # ChirpStack's cases: all 125 kHz off while setting 64..71, then the wanted block on.
        (ALL_72, SUB_BAND_1, [(7, 0x0001), (0, 0x00FF)]),
        (ALL_72, (*range(16), 64, 65), [(7, 0x0003), (0, 0xFFFF)]),
        (ALL_72, SUB_BAND_2, [(7, 0x0002), (0, 0xFF00)]),
        (ALL_72, (*range(56, 64), 71), [(7, 0x0080), (3, 0xFF00)]),
        # A device already on sub-band 1 moved to sub-band 2: per-block is as short, but
        # "all off first" is preferred on a tie, as ChirpStack does.
        (SUB_BAND_1, SUB_BAND_2, [(7, 0x0002), (0, 0xFF00)]),
        # Only one 500 kHz channel differs: one per-block command beats two.
        ((*range(8), 64, 65), SUB_BAND_1, [(4, 0x0001)]),
    ],
)
def test_us915_mask_blocks(
    device: tuple[int, ...], wanted: tuple[int, ...], expected: list[tuple[int, int]]
) -> None:
    assert mask_blocks(US915, device, wanted) == expected
    session = make_session("US915", enabled_uplink_channels=device)
    assert apply_mask_blocks(US915, session, _reqs(expected)) == tuple(sorted(wanted))


def test_au915_uses_the_same_fixed_plan_rules() -> None:
    au915 = get_region("AU915")
    assert mask_blocks(au915, ALL_72, SUB_BAND_2) == [(7, 0x0002), (0, 0xFF00)]


def test_all_narrow_on_applies() -> None:
    session = make_session("US915", enabled_uplink_channels=SUB_BAND_1)
    assert apply_mask_blocks(US915, session, _reqs([(6, 0x00FF)])) == ALL_72


@pytest.mark.parametrize(("cntl", "mask"), [(5, 0x0001), (4, 0x0100)])
def test_fixed_plan_masks_the_engine_never_sends_are_refused(cntl: int, mask: int) -> None:
    session = make_session("US915")
    with pytest.raises(InvalidValueError):
        apply_mask_blocks(US915, session, _reqs([(cntl, mask)]))


def test_eu868_masks_address_channels_0_to_15() -> None:
    eu868 = get_region("EU868")
    assert mask_blocks(eu868, (0, 1, 2, 3, 4), (0, 1, 2, 3)) == [(0, 0x000F)]
    session = make_session(
        extra_uplink_channels={3: ExtraChannel(867_100_000, 0, 5)},
        enabled_uplink_channels=(0, 1),
    )
    assert apply_mask_blocks(eu868, session, _reqs([(6, 0)])) == (0, 1, 2, 3)
    with pytest.raises(InvalidValueError):
        apply_mask_blocks(eu868, session, _reqs([(1, 0x0001)]))


def test_wanted_channels_only_name_extras_the_device_holds_as_defined() -> None:
    eu868 = get_region("EU868")
    settings = NetworkSettings(extra_channels=(867_100_000, 867_300_000))
    session = make_session(
        extra_uplink_channels={
            3: ExtraChannel(867_100_000, 0, 5),
            4: ExtraChannel(867_500_000, 0, 5),  # defined differently than the network wants
        }
    )
    assert wanted_channels(eu868, settings, session) == (0, 1, 2, 3)
    assert wanted_channels(get_region("CN470-20A"), NetworkSettings(), session) is None


BLOCK = tuple(_reqs([(7, 0x0002), (0, 0xFF00)], dr=3, tx=2, nb=2))

SCENARIOS = [
    Scenario(
        "a US915 sub-band block fully acknowledged: mask, DR, power, NbTrans applied",
        (LinkADRAns(True, True, True), LinkADRAns(True, True, True)),
        region="US915",
        session={"adr": True, "mac_command_error_count": {0x03: 1}},
        pending=BLOCK,
        expect_session={
            "enabled_uplink_channels": SUB_BAND_2,
            "dr": 3,
            "tx_power_index": 2,
            "nb_trans": 2,
            "mac_command_error_count": {},
            "uplink_history": [],
        },
        expect_events=(RequestAcknowledged(0x03, BLOCK),),
        expect_downlink=False,
    ),
    Scenario(
        "one NACK in the block: nothing applied, one error",
        (LinkADRAns(True, True, True), LinkADRAns(True, False, True)),
        region="US915",
        session={"adr": True},
        pending=BLOCK,
        expect_session={
            "enabled_uplink_channels": ALL_72,
            "dr": 0,
            "nb_trans": 1,
            "mac_command_error_count": {0x03: 1},
        },
        expect_log_codes=("rejected",),
    ),
    Scenario(
        "a device answering a block once (pre-1.0.4 behaviour) is judged on that answer",
        (LinkADRAns(True, True, True),),
        region="US915",
        session={"adr": True},
        pending=BLOCK,
        expect_session={"enabled_uplink_channels": SUB_BAND_2, "dr": 3},
        expect_events=(RequestAcknowledged(0x03, BLOCK),),
    ),
    Scenario(
        "power refused: the device's weakest power is learnt one step stronger",
        (LinkADRAns(False, True, True),),
        session={"adr": True, "tx_power_index": 1},
        pending=(LinkADRReq(5, 5, 0x0007, 0, 1),),
        expect_session={
            "dr": 0,
            "tx_power_index": 1,
            "max_supported_tx_power_index": 4,
            "mac_command_error_count": {0x03: 1},
        },
        expect_log_codes=("rejected",),
    ),
    Scenario(
        "TXPower 0 refused (RN2483 firmware): fall back to index 1",
        (LinkADRAns(False, True, True),),
        session={"adr": True, "tx_power_index": 2},
        pending=(LinkADRReq(5, 0, 0x0007, 0, 1),),
        expect_session={"tx_power_index": 1, "max_supported_tx_power_index": 0},
        expect_log_codes=("rejected",),
    ),
    Scenario(
        "ADR off on the device: the mask and NbTrans suffice, DR and power as acked",
        (LinkADRAns(power_ack=True, data_rate_ack=False, channel_mask_ack=True),),
        session={"adr": False, "dr": 2, "enabled_uplink_channels": (0, 1, 2, 3)},
        pending=(LinkADRReq(5, 3, 0x0007, 0, 2),),
        expect_session={
            "enabled_uplink_channels": (0, 1, 2),
            "dr": 2,
            "tx_power_index": 3,
            "nb_trans": 2,
            "mac_command_error_count": {},
        },
        expect_events=(RequestAcknowledged(0x03, (LinkADRReq(5, 3, 0x0007, 0, 2),)),),
    ),
    Scenario(
        "ADR off on the device and the mask refused: an error",
        (LinkADRAns(power_ack=True, data_rate_ack=True, channel_mask_ack=False),),
        session={"adr": False},
        pending=(LinkADRReq(5, 3, 0x0007, 0, 2),),
        expect_session={"dr": 0, "mac_command_error_count": {0x03: 1}},
        expect_log_codes=("rejected",),
    ),
    Scenario(
        "unchanged settings keep the ADR history",
        (LinkADRAns(True, True, True),),
        session={
            "adr": True,
            "dr": 5,
            "tx_power_index": 1,
            "uplink_history": [UplinkHistoryEntry(1, 3.0, -80, 1, 1)],
        },
        pending=(LinkADRReq(5, 1, 0x0007, 0, 1),),
        expect_session={"uplink_history": [UplinkHistoryEntry(1, 3.0, -80, 1, 1)]},
        expect_events=(RequestAcknowledged(0x03, (LinkADRReq(5, 1, 0x0007, 0, 1),)),),
    ),
    Scenario(
        "LinkADRAns with nothing pending",
        (LinkADRAns(True, True, True),),
        expect_log_codes=("unexpected_answer",),
    ),
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=str)
def test_link_adr_answer(scenario: Scenario) -> None:
    session, result = run(scenario)
    check(scenario, session, result)


def _strong_history(tx_power_index: int = 0) -> list[UplinkHistoryEntry]:
    return [UplinkHistoryEntry(i, 10.0, -60, tx_power_index, 2) for i in range(20)]


def test_adr_asks_for_a_faster_data_rate() -> None:
    session = make_session(adr=True, uplink_history=_strong_history())
    ctx = make_ctx(uplink=UplinkMeta(dr=0, max_snr=10.0))
    # margin = 10 - (-20) - 10 = 20 dB: 6 steps, DR0 -> DR5 then one power step.
    assert pending_requests(session, ctx) == [LinkADRReq(5, 1, 0x0007, 0, 1)]


def _weak_history(tx_power_index: int) -> list[UplinkHistoryEntry]:
    return [UplinkHistoryEntry(i, -18.0, -120, tx_power_index, 1) for i in range(20)]


def test_adr_keeps_above_a_power_the_device_refused() -> None:
    # A weak link at DR0 asks for more power; the device once refused index 0.
    ctx = make_ctx(uplink=UplinkMeta(dr=0, max_snr=-18.0))  # margin -8 dB: two steps up
    free = make_session(adr=True, tx_power_index=2, uplink_history=_weak_history(2))
    assert pending_requests(free, ctx) == [LinkADRReq(0, 0, 0x0007, 0, 1)]
    limited = make_session(
        adr=True, tx_power_index=2, min_supported_tx_power_index=1, uplink_history=_weak_history(2)
    )
    assert pending_requests(limited, ctx) == [LinkADRReq(0, 1, 0x0007, 0, 1)]
    at_limit = make_session(
        adr=True, tx_power_index=1, min_supported_tx_power_index=1, uplink_history=_weak_history(1)
    )
    assert pending_requests(at_limit, ctx) == []


def test_adr_changes_nothing_without_an_uplink_or_when_the_network_disables_it() -> None:
    session = make_session(adr=True, uplink_history=_strong_history())
    assert pending_requests(session, make_ctx()) == []
    disabled = make_ctx(uplink=UplinkMeta(dr=0), settings={"adr_disabled": True})
    assert pending_requests(session, disabled) == []


def test_a_device_with_adr_off_gets_no_adr_request() -> None:
    session = make_session(adr=False, uplink_history=_strong_history())
    assert pending_requests(session, make_ctx(uplink=UplinkMeta(dr=0))) == []


def test_after_a_us915_join_the_sub_band_block_carries_the_adr_settings() -> None:
    # A pre-1.0.3 device got no CFList: it still has all 72 channels.
    session = make_session("US915", adr=True, uplink_history=_strong_history())
    ctx = make_ctx("US915", uplink=UplinkMeta(dr=0), settings={"enabled_sub_band": 2})
    # margin = 10 - (-15) - 10 = 15 dB: 5 steps, DR0 -> DR3 (US915's top LoRa 125 kHz) + 2 power.
    assert pending_requests(session, ctx) == _reqs([(7, 0x0002), (0, 0xFF00)], dr=3, tx=2)


def test_the_mask_block_alone_uses_the_session_settings() -> None:
    session = make_session("US915", dr=2, tx_power_index=3, nb_trans=2)
    ctx = make_ctx("US915", settings={"enabled_sub_band": 1})
    assert pending_requests(session, ctx) == _reqs([(7, 0x0001), (0, 0x00FF)], 2, 3, 2)


def test_us915_on_its_sub_band_needs_nothing() -> None:
    session = make_session("US915", enabled_uplink_channels=SUB_BAND_2)
    assert pending_requests(session, make_ctx("US915", settings={"enabled_sub_band": 2})) == []


class Nonsense:
    id = "nonsense"
    name = "answers an RFU data rate"

    def decide(self, request: ADRRequest) -> ADRResult:
        return ADRResult(15, 0, 1)


def test_an_adr_answer_that_cannot_be_sent_is_reported() -> None:
    registry = builtin_registry()
    registry.register(Nonsense())
    session = make_session(adr=True)
    ctx = make_ctx(uplink=UplinkMeta(dr=0), profile={"adr_algorithm": "nonsense"}, adr=registry)
    events: list[MACEvent] = []
    assert pending_requests(session, ctx, events=events) == []
    assert [str(getattr(e, "code", "")) for e in events] == ["adr_error"]


def test_an_unknown_algorithm_is_reported_and_changes_nothing() -> None:
    session = make_session(adr=True, uplink_history=_strong_history())
    ctx = make_ctx(uplink=UplinkMeta(dr=0), profile={"adr_algorithm": "missing"})
    events: list[MACEvent] = []
    assert pending_requests(session, ctx, events=events) == []
    assert [str(getattr(e, "code", "")) for e in events] == ["adr_error"]


class Fixed:
    """A plug-in answering a fixed result, to probe what the engine accepts."""

    id = "fixed"
    name = "fixed answer"

    def __init__(self, result: ADRResult) -> None:
        self.result = result

    def decide(self, request: ADRRequest) -> ADRResult:
        return self.result


@pytest.mark.parametrize(
    ("region", "answer", "accepted"),
    [
        ("EU868", ADRResult(3, 2, 2), True),
        ("EU868", ADRResult(3, 8, 1), False),  # EU868 has TXPower 0..7
        ("EU868", ADRResult(3, 0, 0), False),  # NbTrans 0
        ("EU868", ADRResult(3, 0, 16), False),
        ("US915", ADRResult(8, 0, 1), False),  # a downlink-only rate
    ],
)
def test_adr_answers_are_checked_before_they_are_sent(
    region: str, answer: ADRResult, accepted: bool
) -> None:
    registry = builtin_registry()
    registry.register(Fixed(answer))
    session = make_session(region, adr=True)
    ctx = make_ctx(
        region, uplink=UplinkMeta(dr=0), profile={"adr_algorithm": "fixed"}, adr=registry
    )
    requests = pending_requests(session, ctx)
    if accepted:
        assert requests == [LinkADRReq(answer.dr, answer.tx_power_index, 7, 0, answer.nb_trans)]
    else:
        assert requests == []


def test_adr_request_carries_the_learnt_and_configured_limits() -> None:
    session = make_session(adr=True, max_supported_tx_power_index=4, nb_trans=2)
    ctx = make_ctx(
        uplink=UplinkMeta(dr=3, max_snr=1.0),
        settings={"max_dr": 4, "min_dr": 1, "installation_margin_db": 7.5},
    )
    request = adr_request(session, ctx)
    assert request is not None
    assert (request.dr, request.min_dr, request.max_dr) == (3, 1, 4)
    assert (request.max_tx_power_index, request.nb_trans) == (4, 2)
    assert (request.installation_margin_db, request.required_snr_db) == (7.5, -12.5)
    default = adr_request(make_session(), make_ctx(uplink=UplinkMeta(dr=0)))
    assert default is not None and (default.max_dr, default.max_tx_power_index) == (5, 7)


def test_cn470_gets_adr_on_its_current_channels_and_no_mask_changes() -> None:
    region = "CN470-20A"
    session = make_session(region, adr=True, dr=1, enabled_uplink_channels=tuple(range(8)))
    session.uplink_history = [UplinkHistoryEntry(i, 0.0, -60, 0, 1) for i in range(20)]
    ctx = make_ctx(region, uplink=UplinkMeta(dr=1))
    # DR1 is SF11 (-17.5 dB): margin 7.5 dB -> 2 steps.
    assert pending_requests(session, ctx) == [LinkADRReq(3, 0, 0x00FF, 0, 1)]


def test_masks_are_not_applied_on_cn470() -> None:
    region = get_region("CN470-20A")
    with pytest.raises(InvalidValueError, match="not managed"):
        apply_mask_blocks(region, make_session("CN470-20A"), _reqs([(0, 1)]))


def test_a_device_without_enabled_channels_gets_no_adr_request() -> None:
    session = make_session("CN470-20A", adr=True, dr=1)
    session.uplink_history = [UplinkHistoryEntry(i, 0.0, -60, 0, 1) for i in range(20)]
    assert pending_requests(session, make_ctx("CN470-20A", uplink=UplinkMeta(dr=1))) == []


def test_a_block_that_cannot_be_applied_is_reported() -> None:
    session, result = run(
        Scenario(
            "",
            (LinkADRAns(True, True, True),),
            region="US915",
            session={"adr": True},
            pending=(LinkADRReq(2, 0, 0x0001, 5, 1),),  # ChMaskCntl 5: never sent by us
        )
    )
    assert session.enabled_uplink_channels == ALL_72 and session.dr == 0
    assert [str(getattr(e, "code", "")) for e in result.events] == ["malformed"]
