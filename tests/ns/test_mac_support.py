"""Builders shared by the MAC-engine tests (this module holds no tests).

Sessions start as a device fresh from its boot configuration in the region, contexts as the
network's defaults, so each scenario only states what differs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from appliance.lorawan.identifiers import AESKey, DevAddr
from appliance.lorawan.maccommands import MACCommand
from appliance.lorawan.regions import get_region
from appliance.lorawan.security import SessionKeys
from appliance.ns.adr import ADRRegistry, builtin_registry
from appliance.ns.mac import (
    MACContext,
    MACPolicy,
    MACResult,
    UplinkMeta,
    handle_uplink_mac_commands,
    record_sent,
)
from appliance.ns.mac.channel_mask import default_channels
from appliance.ns.network import NetworkSettings
from appliance.ns.profile import DeviceProfile, MACVersion
from appliance.ns.session import DeviceSession

KEYS_1_0 = SessionKeys.for_1_0(AESKey(bytes([1]) * 16), AESKey(bytes([2]) * 16))
KEYS_1_1 = SessionKeys(
    AESKey(bytes([3]) * 16),
    AESKey(bytes([4]) * 16),
    AESKey(bytes([5]) * 16),
    AESKey(bytes([6]) * 16),
)
SENT_AT = 10  # the FCntDown of the downlink that carried the pending requests
DAY_NS = 86_400 * 1_000_000_000


def make_session(
    region: str = "EU868", version: MACVersion = MACVersion.LORAWAN_1_0_3, **changes: Any
) -> DeviceSession:
    reg = get_region(region)
    session = DeviceSession(
        DevAddr("26011bda"),
        KEYS_1_1 if version.is_1_1 else KEYS_1_0,
        version,
        reg.name,
        reg.rx2_data_rate,
        reg.rx2_frequency_hz,
        default_channels(reg) or (),
        # A device already asked for its status: periodic DevStatusReq stays out of the way.
        last_device_status_request_ns=0,
    )
    for name, value in changes.items():
        setattr(session, name, value)
    return session


def make_ctx(
    region: str = "EU868",
    *,
    now_ns: int = 0,
    uplink: UplinkMeta | None = None,
    profile: dict[str, Any] | None = None,
    settings: dict[str, Any] | None = None,
    policy: MACPolicy | None = None,
    adr: ADRRegistry | None = None,
) -> MACContext:
    return MACContext(
        now_ns=now_ns,
        profile=DeviceProfile(name="test", region=region, **(profile or {})),
        settings=NetworkSettings(region_name=region, **(settings or {})),
        uplink=uplink,
        policy=policy or MACPolicy(),
        adr=adr or builtin_registry(),
    )


def send(session: DeviceSession, *commands: MACCommand, f_cnt_down: int = SENT_AT) -> None:
    """As the downlink flow does once the frame carrying ``commands`` is built."""
    record_sent(session, commands, f_cnt_down=f_cnt_down, now_ns=0)


@dataclass(frozen=True)
class Scenario:
    """One row of a ChirpStack-style table: stored state, incoming commands, expectations.

    ``session`` holds field overrides of the starting session, ``pending`` the requests sent
    before this uplink, ``expect_session`` the fields to check afterwards.
    """

    name: str
    commands: tuple[MACCommand, ...]
    region: str = "EU868"
    version: MACVersion = MACVersion.LORAWAN_1_0_3
    session: dict[str, Any] = field(default_factory=dict)
    pending: tuple[MACCommand, ...] = ()
    ctx: dict[str, Any] = field(default_factory=dict)
    expect_session: dict[str, Any] = field(default_factory=dict)
    expect_answers: tuple[MACCommand, ...] = ()
    expect_events: tuple[object, ...] = ()
    expect_log_codes: tuple[str, ...] = ()
    expect_downlink: bool | None = None

    def __str__(self) -> str:
        return self.name


def check(scenario: Scenario, session: DeviceSession, result: MACResult) -> None:
    for name, value in scenario.expect_session.items():
        assert getattr(session, name) == value, f"{scenario.name}: session.{name}"
    assert tuple(result.answers) == scenario.expect_answers, scenario.name
    non_logs = tuple(e for e in result.events if type(e).__name__ != "MACLog")
    assert non_logs == scenario.expect_events, scenario.name
    codes = tuple(str(getattr(e, "code", "")) for e in result.events if hasattr(e, "code"))
    assert codes == scenario.expect_log_codes, scenario.name
    if scenario.expect_downlink is not None:
        assert result.downlink_needed is scenario.expect_downlink, scenario.name


def run(scenario: Scenario) -> tuple[DeviceSession, MACResult]:
    session = make_session(scenario.region, scenario.version, **scenario.session)
    if scenario.pending:
        send(session, *scenario.pending)
    result = handle_uplink_mac_commands(
        session, scenario.commands, make_ctx(scenario.region, **scenario.ctx)
    )
    return session, result
