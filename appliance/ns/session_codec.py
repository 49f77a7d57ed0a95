"""The stored form of a device session as compact bytes.

Every uplink rewrites its device's session, so the encoding is on the hot path twice (read and
write) and its size is what the SD card pays for. The first byte says the format:

- ``{`` (0x7B): JSON of ``DeviceSession.to_dict()``, what the first releases wrote; still read.
- 0x01: MessagePack of that dict, with the dict keys this module knows replaced by small ints
  (``_KEYS``); keys it does not know stay text. Read, no longer written.
- 0x02: the same, deflated. Read, no longer written.
- 0x03: MessagePack of ``DeviceSession.to_record()``: the fields by position, keys as bytes,
  the ADR history packed. What is written now (``encode_session``): a session with a full
  ADR history takes 2 us to write and 4 us to read, against 17 us and 28 us for 0x02, and at
  about 310 bytes it fits a 512-byte page without deflate (7 us of the 17).
- 0x04: the same, deflated; written only for a session that would not fit ``deflate_above``
  bytes otherwise (a page of the database), where one page written beats two.

Whatever MessagePack cannot represent (an integer beyond 64 bits) falls back to JSON, which
every version reads.
"""

from __future__ import annotations

import json
import threading
import zlib
from typing import Any, Final

import msgpack

from appliance.ns.session import DeviceSession, RecordLengthError

JSON_PREFIX: Final = 0x7B  # "{"
MSGPACK: Final = 0x01
MSGPACK_DEFLATED: Final = 0x02
RECORD: Final = 0x03
RECORD_DEFLATED: Final = 0x04

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
    """``data`` (a ``DeviceSession.to_dict()`` result) in the dict formats (0x01, 0x02): what
    earlier versions wrote, kept for tests of reading them and for tools."""
    try:
        packed: bytes = msgpack.packb(_intern(data), use_bin_type=True)
    except (OverflowError, TypeError, ValueError):
        return json.dumps(data, separators=(",", ":")).encode()
    if deflate:
        return bytes((MSGPACK_DEFLATED,)) + zlib.compress(packed, _DEFLATE_LEVEL, _RAW_DEFLATE)
    return bytes((MSGPACK,)) + packed


def decode(blob: bytes) -> dict[str, Any]:
    """The dict ``encode`` was given (or the JSON an older version stored); the record
    formats are read by ``decode_session``."""
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


def encode_session(session: DeviceSession, *, deflate_above: int | None = None) -> bytes:
    """The stored form of ``session``: a record (0x03), deflated (0x04) when it is longer than
    ``deflate_above`` bytes and deflating makes it shorter."""
    try:
        packed = _pack_record(session.to_record())
    except (OverflowError, TypeError, ValueError):
        return json.dumps(session.to_dict(), separators=(",", ":")).encode()
    if deflate_above is not None and len(packed) >= deflate_above:
        deflated = zlib.compress(packed, _DEFLATE_LEVEL, _RAW_DEFLATE)
        if len(deflated) < len(packed):
            return _RECORD_DEFLATED_PREFIX + deflated
    return _RECORD_PREFIX + packed


def decode_session(blob: bytes) -> DeviceSession:
    """The session stored as ``blob``, in any format any version wrote."""
    kind = blob[0] if blob else None
    if kind not in (RECORD, RECORD_DEFLATED):
        try:
            return DeviceSession.from_dict(decode(blob))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            if isinstance(exc, SessionCodecError):
                raise
            raise SessionCodecError(f"a damaged session record ({exc!r})") from None
    try:
        body = memoryview(blob)[1:]
        if kind == RECORD_DEFLATED:
            body = memoryview(zlib.decompress(body, _RAW_DEFLATE))
        record = msgpack.unpackb(body, use_list=False, raw=False, strict_map_key=False)
        if type(record) is not tuple:
            raise SessionCodecError("a session record that is not a sequence")
        return DeviceSession.from_record(record)
    except RecordLengthError as exc:
        raise SessionCodecError(str(exc)) from None
    except SessionCodecError:
        raise
    except _DAMAGED as exc:
        raise SessionCodecError(f"a damaged session record ({exc!r})") from None


_DAMAGED: Final = (
    ValueError,
    TypeError,
    KeyError,
    AttributeError,
    zlib.error,
    msgpack.UnpackException,
)
_packers = threading.local()  # a Packer is reused (cheaper than packb) but not thread-safe


def _pack_record(record: list[Any]) -> bytes:
    try:
        pack = _packers.pack
    except AttributeError:
        pack = _packers.pack = msgpack.Packer(use_bin_type=True, autoreset=True).pack
    packed: bytes = pack(record)
    return packed


_RECORD_PREFIX: Final = bytes((RECORD,))
_RECORD_DEFLATED_PREFIX: Final = bytes((RECORD_DEFLATED,))
