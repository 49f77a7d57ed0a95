"""The stored form of a device session: ``DeviceSession.to_dict()`` output as compact bytes.

Every uplink rewrites its device's session, so the encoding is on the hot path twice (read and
write) and its size is what the SD card pays for. The first byte says the format:

- ``{`` (0x7B): JSON text, what the first releases wrote; still read, never written.
- 0x01: MessagePack of the dict, with the dict keys this module knows replaced by small ints
  (``_KEYS``); keys it does not know stay text, so a field added to ``DeviceSession`` later is
  stored and read back without a change here (append its name to ``_KEYS`` to make it small).
- 0x02: the same, deflated (about half the size: a session with a full ADR history fits in
  one small database page).

Generic over the dict: nothing here knows what a field means, so ``to_dict``/``from_dict`` stay
the single description of a session. Whatever MessagePack cannot represent (an integer beyond
64 bits) falls back to JSON, which every version reads.
"""

from __future__ import annotations

import json
import zlib
from typing import Any, Final

import msgpack

JSON_PREFIX: Final = 0x7B  # "{"
MSGPACK: Final = 0x01
MSGPACK_DEFLATED: Final = 0x02

# Interned dict keys, by position. Released positions never change: append new keys at the end.
_KEYS: Final[tuple[str, ...]] = (
    "dev_addr",
    "keys",
    "f_nwk_s_int_key",
    "s_nwk_s_int_key",
    "nwk_s_enc_key",
    "app_s_key",
    "lorawan_1_1",
    "mac_version",
    "region",
    "rx2_dr",
    "rx2_frequency",
    "enabled_uplink_channels",
    "f_cnt_up",
    "n_f_cnt_down",
    "a_f_cnt_down",
    "conf_f_cnt",
    "rx1_delay_s",
    "rx1_dr_offset",
    "extra_uplink_channels",
    "dr",
    "tx_power_index",
    "nb_trans",
    "adr",
    "max_supported_tx_power_index",
    "uplink_dwell_time_400ms",
    "downlink_dwell_time_400ms",
    "uplink_max_eirp_index",
    "ping_slot",
    "uplink_history",
    "pending_mac_requests",
    "mac_command_error_count",
    "last_device_status_request_ns",
    "rejoin",
    "skip_f_cnt_check",
    "pending_rejoin_session",
    "conf_f_cnt_timed_out",
    "max_duty_cycle",
    "adr_ack_exp",
    "rx1_frequencies",
    "beacon_frequency",
    "min_supported_tx_power_index",
    "rejoin_count_1",
)
_IDS: Final[dict[str, int]] = {key: index for index, key in enumerate(_KEYS)}
_DEFLATE_LEVEL: Final = 1  # the fastest level already halves a session
_RAW_DEFLATE: Final = -15  # no zlib header or checksum: the AES-GCM tag guards the bytes


class SessionCodecError(ValueError):
    """Stored session bytes this version cannot read."""


def _intern(data: dict[str, Any]) -> dict[int | str, Any]:
    get = _IDS.get  # hot: runs for every session saved
    return {
        get(key, key): _intern(value) if value and type(value) is dict else value
        for key, value in data.items()
    }


def _restore(data: dict[Any, Any]) -> dict[str, Any]:
    keys = _KEYS
    try:
        return {
            keys[key] if type(key) is int else key: _restore(value)
            if value and type(value) is dict
            else value
            for key, value in data.items()
        }
    except IndexError:
        raise SessionCodecError("a session written by a newer version (unknown key)") from None


def encode(data: dict[str, Any], *, deflate: bool = True) -> bytes:
    """The stored form of ``data`` (a ``DeviceSession.to_dict()`` result)."""
    try:
        packed: bytes = msgpack.packb(_intern(data), use_bin_type=True)
    except (OverflowError, TypeError, ValueError):
        return json.dumps(data, separators=(",", ":")).encode()
    if deflate:
        return bytes((MSGPACK_DEFLATED,)) + zlib.compress(packed, _DEFLATE_LEVEL, _RAW_DEFLATE)
    return bytes((MSGPACK,)) + packed


def decode(blob: bytes) -> dict[str, Any]:
    """The dict ``encode`` was given (or the JSON an older version stored)."""
    if not blob:
        raise SessionCodecError("an empty session record")
    kind = blob[0]
    try:
        if kind == JSON_PREFIX:
            data = json.loads(blob)
        elif kind == MSGPACK_DEFLATED:
            data = _unpack(zlib.decompress(memoryview(blob)[1:], _RAW_DEFLATE))
        elif kind == MSGPACK:
            data = _unpack(memoryview(blob)[1:])
        else:
            raise SessionCodecError(f"a session in an unknown format ({kind:#04x})")
    except (ValueError, zlib.error, msgpack.UnpackException) as exc:
        if isinstance(exc, SessionCodecError):
            raise
        raise SessionCodecError(f"a damaged session record ({exc})") from None
    if not isinstance(data, dict):
        raise SessionCodecError("a session record that is not a mapping")
    return data


def _unpack(packed: bytes | memoryview) -> dict[str, Any]:
    data = msgpack.unpackb(packed, raw=False, strict_map_key=False)
    if not isinstance(data, dict):
        raise SessionCodecError("a session record that is not a mapping")
    return _restore(data)
