"""A device's persistent state as JSON-ready data, and back.

Keys are hex, MAC commands are their wire bytes, frequencies are Hz. ``FORMAT`` changes when
the layout does; a snapshot of another format or another DevEUI is refused, not guessed at.
"""

from __future__ import annotations

from typing import Any, Final

from appliance.devicesim.channels import ChannelTable, UplinkChannel
from appliance.devicesim.config import DeviceConfig
from appliance.devicesim.errors import SnapshotError
from appliance.devicesim.join import JoinState
from appliance.devicesim.regional import is_downlink_rate, usable_uplink_data_rates
from appliance.devicesim.session import MACQueue, RadioSettings, Session
from appliance.devicesim.state import DeviceState
from appliance.lorawan.errors import LoRaWANError
from appliance.lorawan.identifiers import AESKey, DevAddr, NetID
from appliance.lorawan.maccommands import (
    MACCommand,
    RejoinParamSetupReq,
    decode_mac_commands_strict,
    encode_mac_commands,
)
from appliance.lorawan.regions import Region, get_region
from appliance.lorawan.security import SessionKeys

FORMAT: Final = 1
_SETTINGS_FIELDS: Final = (
    "data_rate",
    "tx_power",
    "rx2_data_rate",
    "rx2_frequency",
    "max_eirp_dbm",
    "adr_ack_limit",
    "adr_ack_delay",
    "uplink_dwell_time",
    "downlink_dwell_time",
    "nb_trans",
    "rx1_delay_s",
    "rx1_dr_offset",
    "max_duty_cycle",
)


def _commands(commands: tuple[MACCommand, ...]) -> str:
    return encode_mac_commands(commands, uplink=True).hex()


def _session_to_dict(session: Session | None) -> dict[str, Any] | None:
    if session is None:
        return None
    keys = session.keys
    return {
        "dev_addr": str(session.dev_addr),
        "net_id": None if session.net_id is None else str(session.net_id),
        "keys": {
            "f_nwk_s_int_key": str(keys.f_nwk_s_int_key),
            "s_nwk_s_int_key": str(keys.s_nwk_s_int_key),
            "nwk_s_enc_key": str(keys.nwk_s_enc_key),
            "app_s_key": str(keys.app_s_key),
            "lorawan_1_1": keys.lorawan_1_1,
        },
        "f_cnt_up": session.f_cnt_up,
        "n_f_cnt_down": session.n_f_cnt_down,
        "a_f_cnt_down": session.a_f_cnt_down,
        "rj_count0": session.rj_count0,
    }


def state_to_dict(state: DeviceState, config: DeviceConfig) -> dict[str, Any]:
    mac = state.mac
    setup = state.rejoin_setup
    return {
        "format": FORMAT,
        "dev_eui": str(config.dev_eui),
        "join": {
            "next_dev_nonce": state.join.next_dev_nonce,
            "used_dev_nonces": sorted(state.join.used_dev_nonces),
            "last_join_nonce": state.join.last_join_nonce,
            "next_rj_count1": state.join.next_rj_count1,
        },
        "session": _session_to_dict(state.session),
        "settings": {name: getattr(state.settings, name) for name in _SETTINGS_FIELDS},
        "channels": {
            "fixed": state.channels.fixed,
            "default_count": state.channels.default_count,
            "slots": [
                None
                if c is None
                else [c.index, c.frequency, c.min_dr, c.max_dr, c.enabled, c.rx1_frequency]
                for c in state.channels.slots
            ],
        },
        "mac": {
            "answers": _commands(mac.answers),
            "sticky": _commands(mac.sticky),
            "indication": None if mac.indication is None else _commands((mac.indication,)),
        },
        "battery": state.battery,
        "adr_ack_cnt": state.adr_ack_cnt,
        "indication_uplinks": state.indication_uplinks,
        "ack_f_cnt": state.ack_f_cnt,
        "rejoin_setup": None if setup is None else [setup.max_time_n, setup.max_count_n],
        "uplinks_since_rejoin": state.uplinks_since_rejoin,
    }


def _session_from_dict(data: dict[str, Any] | None) -> Session | None:
    if data is None:
        return None
    keys = data["keys"]
    return Session(
        dev_addr=DevAddr(data["dev_addr"]),
        keys=SessionKeys(
            AESKey(keys["f_nwk_s_int_key"]),
            AESKey(keys["s_nwk_s_int_key"]),
            AESKey(keys["nwk_s_enc_key"]),
            AESKey(keys["app_s_key"]),
            lorawan_1_1=bool(keys["lorawan_1_1"]),
        ),
        net_id=None if data["net_id"] is None else NetID(data["net_id"]),
        f_cnt_up=_int(data["f_cnt_up"]),
        n_f_cnt_down=_int(data["n_f_cnt_down"]),
        a_f_cnt_down=_int(data["a_f_cnt_down"]),
        rj_count0=_int(data["rj_count0"]),
    )


def _int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise SnapshotError(f"expected an integer, got {value!r}")
    return value


def _optional_int(value: object) -> int | None:
    return None if value is None else _int(value)


def _settings_from_dict(data: dict[str, Any], region: Region) -> RadioSettings:
    values = {name: data[name] for name in _SETTINGS_FIELDS}
    for name, value in values.items():
        if name.endswith("dwell_time"):
            if not isinstance(value, bool):
                raise SnapshotError(f"settings.{name} must be true or false, got {value!r}")
        elif name == "max_eirp_dbm":
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise SnapshotError(f"settings.max_eirp_dbm must be a number, got {value!r}")
            values[name] = float(value)
        else:
            _int(value)
    settings = RadioSettings(**values)
    checks = (
        (
            settings.data_rate in usable_uplink_data_rates(region, settings.uplink_dwell_time),
            "data_rate",
        ),
        (0 <= settings.tx_power < len(region.tx_power_backoff_db), "tx_power"),
        (0 <= settings.rx1_dr_offset < region.rx1_data_rates.offset_count, "rx1_dr_offset"),
        (is_downlink_rate(region, settings.rx2_data_rate), "rx2_data_rate"),
        (1 <= settings.rx1_delay_s <= 15, "rx1_delay_s"),
        (1 <= settings.nb_trans <= 15, "nb_trans"),
        (0 <= settings.max_duty_cycle <= 15, "max_duty_cycle"),
        (settings.adr_ack_limit > 0 and settings.adr_ack_delay > 0, "adr_ack_limit/delay"),
    )
    for ok, name in checks:
        if not ok:
            raise SnapshotError(f"settings.{name} is out of range for {region.name}")
    return settings


def _channel(slot: list[Any] | None) -> UplinkChannel | None:
    if slot is None:
        return None
    index, frequency, min_dr, max_dr, enabled, rx1 = slot
    if not isinstance(enabled, bool):
        raise SnapshotError(f"a channel's enabled flag must be true or false, got {enabled!r}")
    return UplinkChannel(
        _int(index), _int(frequency), _int(min_dr), _int(max_dr), enabled, _optional_int(rx1)
    )


def _mac_from_dict(data: dict[str, Any]) -> MACQueue:
    def commands(text: str) -> tuple[MACCommand, ...]:
        return decode_mac_commands_strict(bytes.fromhex(text), uplink=True)

    indication = commands(data["indication"]) if data["indication"] is not None else ()
    return MACQueue(
        answers=commands(data["answers"]),
        sticky=commands(data["sticky"]),
        indication=indication[0] if indication else None,
    )


def state_from_dict(data: dict[str, Any], config: DeviceConfig) -> DeviceState:
    """Rebuild the state ``state_to_dict`` saved; ``SnapshotError`` if it does not fit."""
    try:
        if data.get("format") != FORMAT:
            raise SnapshotError(f"snapshot format {data.get('format')!r} is not {FORMAT}")
        if data["dev_eui"] != str(config.dev_eui):
            raise SnapshotError(f"snapshot of device {data['dev_eui']}, not of {config.dev_eui}")
        join = data["join"]
        channels = data["channels"]
        setup = data["rejoin_setup"]
        return DeviceState(
            join=JoinState(
                _int(join["next_dev_nonce"]),
                frozenset(_int(n) for n in join["used_dev_nonces"]),
                _optional_int(join["last_join_nonce"]),
                _int(join.get("next_rj_count1", 0)),  # absent from snapshots before type 1
            ),
            session=_session_from_dict(data["session"]),
            settings=_settings_from_dict(data["settings"], get_region(config.region)),
            channels=ChannelTable(
                tuple(_channel(slot) for slot in channels["slots"]),
                fixed=bool(channels["fixed"]),
                default_count=_int(channels["default_count"]),
            ),
            mac=_mac_from_dict(data["mac"]),
            battery=_int(data["battery"]),
            adr_ack_cnt=_int(data["adr_ack_cnt"]),
            indication_uplinks=_int(data["indication_uplinks"]),
            ack_f_cnt=_optional_int(data["ack_f_cnt"]),
            rejoin_setup=None if setup is None else RejoinParamSetupReq(*setup),
            uplinks_since_rejoin=_int(data["uplinks_since_rejoin"]),
        )
    except SnapshotError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, LoRaWANError) as exc:
        raise SnapshotError(f"malformed snapshot: {type(exc).__name__}: {exc}") from None
