"""Upstream JSON (``rxpk`` entries and the ``stat`` object) to the frame model.

Parsing is lenient about what may be missing (``time``, ``codr``, ``lsnr``...) and strict about
what is present: a present field of the wrong type or an absurd value drops the entry with a
reason, so one bad forwarder cannot put nonsense into the network server.
"""

from __future__ import annotations

import binascii
import re
from binascii import a2b_base64
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any, Final

from appliance.lorawan.errors import InvalidValueError
from appliance.lorawan.identifiers import EUI64
from hal.model import (
    CodeRate,
    CRCStatus,
    FSKModulation,
    GatewayStats,
    Location,
    LocationSource,
    LoRaModulation,
    LRFHSSModulation,
    Modulation,
    UplinkFrame,
    UplinkRxInfo,
    UplinkTxInfo,
)
from hal.semtech_udp.build import uplink_frame, uplink_rx_info
from hal.semtech_udp.packets import DropReason, PacketError
from hal.semtech_udp.timestamps import TmstWidener, parse_utc_ns

_CRC_STATUS: Final = {1: CRCStatus.CRC_OK, -1: CRCStatus.BAD_CRC, 0: CRCStatus.NO_CRC}
_CODE_RATES: Final[dict[str, CodeRate]] = {
    **{rate.text: rate for rate in CodeRate if rate is not CodeRate.UNDEFINED},
    "OFF": CodeRate.UNDEFINED,
    "": CodeRate.UNDEFINED,
    "1/3": CodeRate.CR_2_6,  # LR-FHSS forwarders write 1/3 for the rate gw.proto calls 2/6
}
# Bandwidths as forwarders write them: whole kHz ("BW125", "BW812") or exact ("BW812.5").
_BANDWIDTHS: Final[dict[str, int]] = {}
_KHZ = "7.8 10.4 15.6 20.8 31.25 41.7 62.5 125 250 500 203.125 406.25 812.5 1625"
for _khz in _KHZ.split(" "):
    _BANDWIDTHS[_khz] = _BANDWIDTHS[_khz.split(".")[0]] = round(float(_khz) * 1000)
_LORA_DATR = re.compile(r"SF(\d{1,2})BW(\d{1,4}(?:\.\d{1,3})?)", re.ASCII)
_LR_FHSS_DATR = re.compile(r"M0CW(\d{1,4})", re.ASCII)

_MIN_FREQUENCY_MHZ: Final = 30  # below the lowest band any LoRa chip covers
_MAX_FREQUENCY_MHZ: Final = 3_000  # above the 2.4 GHz band of the SX128x
# sx1302 extras kept as metadata, with the range a real forwarder can produce.
_EXTRAS: Final = (
    ("jver", 0, 255),  # rxpk JSON format version
    ("mid", 0, 255),  # modem that demodulated the frame
    ("foff", -1_000_000, 1_000_000),  # frequency offset, Hz
    ("rssis", -200, 50),  # signal (not channel) RSSI, dBm
    ("aesk", 0, 255),  # key index of an encrypted fine timestamp
)
_MAX_RSIG: Final = 16  # antennas per frame; real boards have 1-4
_MAX_META: Final = 32  # custom "meta" entries kept per frame (bounds memory per datagram)
_MAX_META_TEXT: Final = 256
_GPS_SECOND_NS: Final = 1_000_000_000
_MAX_TMMS: Final = 1 << 53

# (datr, codr, hpw, type of hpw) -> Modulation: a gateway hears a handful of data rates, and
# the modulation objects are immutable, so they are shared. Bounded so garbage cannot grow it.
_modulations: dict[tuple[object, ...], Modulation] = {}
# (freq, datr, codr, hpw, type of hpw) -> UplinkTxInfo, for the same reason: a gateway's
# channels and data rates are few, so most entries skip the frequency and data rate checks.
_tx_infos: dict[tuple[object, ...], UplinkTxInfo] = {}
_MAX_TX_INFOS: Final = 1_024


def _fail(reason: DropReason, message: str) -> PacketError:
    return PacketError(reason, message)


def _checked_number(key: str, value: object, low: float, high: float) -> float:
    """``value`` (present) as the number it is, or the reason it is refused."""
    # bool is an int in Python but never a number in this protocol
    if type(value) is not int and type(value) is not float:
        raise _fail(DropReason.BAD_RXPK, f"{key}={value!r} is not a number")
    if not low <= value <= high:  # also refuses NaN, which Python's json accepts
        raise _fail(DropReason.ABSURD_VALUE, f"{key}={value!r} is not in {low}..{high}")
    return value


def _checked_integer(key: str, value: object, low: int, high: int) -> int:
    """``value`` (present) as an int (an integral float is one), or the reason it is refused."""
    number = _checked_number(key, value, low, high)
    if type(number) is float and not number.is_integer():
        raise _fail(DropReason.ABSURD_VALUE, f"{key}={number!r} is not an integer")
    return int(number)


def _number(entry: Mapping[str, Any], key: str, low: float, high: float) -> float | None:
    value = entry.get(key)
    return None if value is None else _checked_number(key, value, low, high)


def _integer(entry: Mapping[str, Any], key: str, low: int, high: int) -> int | None:
    value = entry.get(key)
    return None if value is None else _checked_integer(key, value, low, high)


def modulation_of(datr: object, codr: object, hpw: object = None) -> Modulation:
    """The modulation named by ``datr`` (+ ``codr``, and ``hpw`` for LR-FHSS)."""
    # hpw's type is in the key because 1, 1.0 and true are one key and only 1 is valid.
    key = (datr, codr, hpw, type(hpw))
    try:
        cached = _modulations.get(key)
    except TypeError:  # an unhashable JSON value (list, object)
        raise _fail(DropReason.BAD_DATARATE, f"datr {datr!r} is not a data rate") from None
    if cached is not None:
        return cached
    modulation = _parse_modulation(datr, codr, hpw)
    if len(_modulations) < 256:
        _modulations[key] = modulation
    return modulation


def _code_rate(codr: object) -> CodeRate:
    if codr is None:
        return CodeRate.UNDEFINED
    rate = _CODE_RATES.get(codr.strip().upper()) if isinstance(codr, str) else None
    if rate is None:
        raise _fail(DropReason.BAD_CODERATE, f"unknown coding rate {codr!r}")
    return rate


def _parse_modulation(datr: object, codr: object, hpw: object) -> Modulation:
    try:
        if isinstance(datr, str):
            text = datr.strip().upper()
            lora = _LORA_DATR.fullmatch(text)
            if lora is not None:
                bandwidth = _BANDWIDTHS.get(lora.group(2))
                if bandwidth is None:
                    raise _fail(DropReason.BAD_DATARATE, f"unknown bandwidth in {datr!r}")
                return LoRaModulation(bandwidth, int(lora.group(1)), _code_rate(codr))
            fhss = _LR_FHSS_DATR.fullmatch(text)
            if fhss is not None:
                steps = 0 if hpw is None else hpw
                if type(steps) is not int or not 0 <= steps <= 0xFFFF:
                    raise _fail(DropReason.ABSURD_VALUE, f"hpw={hpw!r} is not a step count")
                return LRFHSSModulation(int(fhss.group(1)) * 1000, _code_rate(codr), steps)
            if text.isdigit():  # some forwarders quote the FSK bit rate
                return FSKModulation(int(text))
        elif type(datr) is int or (type(datr) is float and datr.is_integer()):
            return FSKModulation(int(datr))
    except InvalidValueError as error:
        raise _fail(DropReason.BAD_DATARATE, str(error)) from None
    raise _fail(DropReason.BAD_DATARATE, f"datr {datr!r} is not a data rate")


def _crc_status(stat: object) -> CRCStatus:
    """The CRC status of a ``stat`` that is missing or not the int -1, 0 or 1."""
    return CRCStatus.NO_CRC if stat is None else _CRC_STATUS[_checked_integer("stat", stat, -1, 1)]


def _payload(data: object, size: object) -> bytes:
    if not isinstance(data, str):
        raise _fail(DropReason.BAD_RXPK, "rxpk without a data string")
    if len(data) % 4:  # PROTOCOL.TXT says padded, but "padding optional" forwarders exist
        data += "=" * (-len(data) % 4)
    try:
        # What base64.b64decode(validate=True) runs, without its wrapper; a str that is not
        # ASCII raises ValueError.
        payload = a2b_base64(data, strict_mode=True)
    except (binascii.Error, ValueError):
        raise _fail(DropReason.BAD_BASE64, "rxpk data is not base64") from None
    if size is not None and (type(size) is not int or size != len(payload)):
        raise _fail(DropReason.SIZE_MISMATCH, f"size {size!r} but {len(payload)} bytes of data")
    if len(payload) > 255:
        raise _fail(DropReason.ABSURD_VALUE, f"{len(payload)} byte payload exceeds 255")
    return payload


def _tx_info(freq: object, datr: object, codr: object, hpw: object) -> UplinkTxInfo:
    """Validate and convert, then remember the result for the next entry with these values."""
    tx_info = UplinkTxInfo(_frequency(freq), modulation_of(datr, codr, hpw))
    if len(_tx_infos) >= _MAX_TX_INFOS:
        _tx_infos.clear()  # garbage from a forged gateway cannot keep the real ones out for long
    # hpw's type is in the key because 1, 1.0 and true are one key and only 1 is valid.
    _tx_infos[freq, datr, codr, hpw, type(hpw)] = tx_info
    return tx_info


def _metadata(entry: Mapping[str, Any], target: dict[str, str]) -> None:
    """sx1302 extras (and ChirpStack's custom ``meta`` map) as text."""
    for key, low, high in _EXTRAS:
        value = _number(entry, key, low, high)
        if value is not None:
            target[key] = str(value)
    meta = entry.get("meta")
    if isinstance(meta, dict):
        _custom_meta(meta, target)


def _custom_meta(meta: dict[Any, Any], target: dict[str, str]) -> None:
    for key, value in list(meta.items())[:_MAX_META]:
        if isinstance(value, str):
            target[key[:_MAX_META_TEXT]] = value[:_MAX_META_TEXT]


def _frequency(freq: object) -> int:
    if isinstance(freq, bool) or not isinstance(freq, int | float):
        raise _fail(DropReason.BAD_RXPK, f"freq {freq!r} is not a number")
    if not _MIN_FREQUENCY_MHZ <= freq <= _MAX_FREQUENCY_MHZ:
        raise _fail(DropReason.ABSURD_VALUE, f"frequency {freq!r} MHz")
    return round(freq * 1_000_000)  # MHz with Hz precision: rounding makes it exact


def _per_antenna(rsig: object, rx_info: UplinkRxInfo) -> list[UplinkRxInfo]:
    """One reception per ``rsig`` entry: its own antenna, channel, RSSI and SNR."""
    if not isinstance(rsig, list) or len(rsig) > _MAX_RSIG:
        raise _fail(DropReason.BAD_RXPK, "rsig is not a list of at most 16 antennas")
    receptions = []
    for signal in rsig:
        if not isinstance(signal, dict):
            raise _fail(DropReason.BAD_RXPK, "rsig entry is not an object")
        rssi = _integer(signal, "rssic", -200, 50)
        snr = _number(signal, "lsnr", -50.0, 50.0)
        channel = _integer(signal, "chan", 0, 255)
        metadata = dict(rx_info.metadata)
        _metadata(signal, metadata)
        etime = signal.get("etime")
        if isinstance(etime, str) and etime:
            metadata["etime"] = etime[:_MAX_META_TEXT]  # encrypted fine timestamp, kept as sent
        receptions.append(
            replace(
                rx_info,
                rssi=rx_info.rssi if rssi is None else rssi,
                snr=rx_info.snr if snr is None else float(snr),
                channel=rx_info.channel if channel is None else channel,
                antenna=_integer(signal, "ant", 0, 255) or 0,
                metadata=metadata,
            )
        )
    return receptions


def _times_and_metadata(
    get: Callable[[str], Any], widener: TmstWidener | None
) -> tuple[bytes, int | None, int | None, int | None, dict[str, str]]:
    """Context, gateway time, GPS time and fine GPS time (ns) of an entry, and its metadata."""
    metadata: dict[str, str] = {}
    tmst = get("tmst")
    context = b""
    if tmst is not None:
        if type(tmst) is not int or not 0 <= tmst <= 0xFFFF_FFFF:
            tmst = _checked_integer("tmst", tmst, 0, 0xFFFF_FFFF)
        # As ChirpStack: the concentrator counter, 4 bytes big-endian, echoed in Class A downlinks.
        context = tmst.to_bytes(4, "big")
        if widener is not None:
            metadata["tmst64"] = str(widener.widen(tmst))
    gps_ns = get("tmms")
    if gps_ns is not None:
        if type(gps_ns) is not int or not 0 <= gps_ns <= _MAX_TMMS:
            gps_ns = _checked_integer("tmms", gps_ns, 0, _MAX_TMMS)
        gps_ns *= 1_000_000
    ftime = get("ftime")
    fine_ns = None
    if ftime is not None:
        if type(ftime) is not int or not 0 <= ftime <= 999_999_999:
            ftime = _checked_integer("ftime", ftime, 0, 999_999_999)
        if gps_ns is not None:
            # ftime counts ns since the last PPS; the whole GPS second comes from tmms.
            fine_ns = gps_ns - gps_ns % _GPS_SECOND_NS + ftime
        else:
            metadata["ftime"] = str(ftime)  # no GPS second to anchor it to
    text = get("time")
    gw_time = parse_utc_ns(text) if isinstance(text, str) and text else None
    for key, low, high in _EXTRAS:
        value = get(key)
        if value is not None:
            if type(value) is not int or not low <= value <= high:
                value = _checked_number(key, value, low, high)
            metadata[key] = str(value)
    meta = get("meta")
    if isinstance(meta, dict):
        _custom_meta(meta, metadata)
    return context, gw_time, gps_ns, fine_ns, metadata


def uplinks_from_rxpk(
    entry: object,
    gateway_id: EUI64,
    *,
    uplink_id: int,
    ns_time_ns: int | None,
    widener: TmstWidener | None = None,
    location: Location | None = None,
) -> list[UplinkFrame]:
    """One ``UplinkFrame`` per reception: one, or one per ``rsig`` (antenna) entry.

    Raises ``PacketError`` whose reason says why the entry was refused.
    """
    # This runs for every uplink, so each field is read once and its usual value (an int in
    # range) is accepted inline; anything else goes through _checked_integer/_checked_number,
    # which convert it (an integral float) or raise its reason. Fields are checked in a fixed
    # order, so an entry with several faults always gives the same reason.
    if not isinstance(entry, dict):
        raise _fail(DropReason.BAD_RXPK, "rxpk entry is not an object")
    get = entry.get
    payload = _payload(get("data"), get("size"))
    freq, datr, codr, hpw = get("freq"), get("datr"), get("codr"), get("hpw")
    try:
        tx_info = _tx_infos.get((freq, datr, codr, hpw, type(hpw)))
    except TypeError:  # an unhashable JSON value (list, object): _tx_info says which
        tx_info = None
    if tx_info is None:
        tx_info = _tx_info(freq, datr, codr, hpw)
    stat = get("stat")
    crc_status = _CRC_STATUS.get(stat) if type(stat) is int else None
    if crc_status is None:
        crc_status = _crc_status(stat)
    rssi = get("rssi")
    if rssi is not None:
        if type(rssi) is not int or not -200 <= rssi <= 50:
            rssi = _checked_integer("rssi", rssi, -200, 50)
    else:  # the signal RSSI stands in
        rssi = get("rssis")
        if rssi is None:
            rssi = 0
        elif type(rssi) is not int or not -200 <= rssi <= 50:
            rssi = _checked_integer("rssis", rssi, -200, 50)
    context, gw_time, gps_ns, fine_ns, metadata = _times_and_metadata(get, widener)
    snr = get("lsnr")
    if type(snr) is not float or not snr or not -50.0 <= snr <= 50.0:
        # Missing, 0 and -0.0 all give 0.0; an int is made a float.
        snr = float(_number(entry, "lsnr", -50.0, 50.0) or 0.0)
    channel = get("chan", 0)
    if type(channel) is not int or not 0 <= channel <= 255:
        channel = _integer(entry, "chan", 0, 255) or 0  # None (JSON null) too
    rf_chain = get("rfch", 0)
    if type(rf_chain) is not int or not 0 <= rf_chain <= 255:
        rf_chain = _integer(entry, "rfch", 0, 255) or 0
    board = get("brd", 0)
    if type(board) is not int or not 0 <= board <= 0xFFFF:
        board = _integer(entry, "brd", 0, 0xFFFF) or 0
    rx_info = uplink_rx_info(
        gateway_id,
        uplink_id,
        rssi,
        snr,
        channel,
        rf_chain,
        board,
        0,  # antenna
        context,
        crc_status,
        gw_time,
        ns_time_ns,
        gps_ns,
        fine_ns,
        location,
        metadata,
    )
    rsig = get("rsig")
    if not rsig:
        return [uplink_frame(payload, tx_info, rx_info)]
    return [uplink_frame(payload, tx_info, info) for info in _per_antenna(rsig, rx_info)]


def crc_status_of(entry: object) -> CRCStatus | None:
    """The CRC status an entry claims, read before the full conversion (None if unreadable)."""
    if not isinstance(entry, dict):
        return None
    stat = entry.get("stat", 0)
    return _CRC_STATUS.get(stat) if type(stat) is int else None


def location_of(stat: object) -> Location | None:
    """The gateway position of a ``stat`` object, when it has both ``lati`` and ``long``."""
    if not isinstance(stat, dict) or stat.get("lati") is None or stat.get("long") is None:
        return None
    latitude = _number(stat, "lati", -90.0, 90.0)
    longitude = _number(stat, "long", -180.0, 180.0)
    altitude = _number(stat, "alti", -1_000.0, 100_000.0) or 0.0
    assert latitude is not None and longitude is not None  # checked above
    return Location(float(latitude), float(longitude), float(altitude), source=LocationSource.GPS)


def stats_from_stat(stat: object, gateway_id: EUI64) -> GatewayStats:
    """``GatewayStats`` of a ``stat`` object; raises ``PacketError`` (``bad_stat``)."""
    if not isinstance(stat, dict):
        raise _fail(DropReason.BAD_STAT, "stat is not an object")
    try:
        location = location_of(stat)
        counters = {
            key: _integer(stat, key, 0, 0xFFFF_FFFF) or 0
            for key in ("rxnb", "rxok", "rxfw", "dwnb", "txnb")
        }
        metadata: dict[str, str] = {"rxfw": str(counters["rxfw"])}
        for key, low, high in (("ackr", 0.0, 100.0), ("temp", -100.0, 200.0)):
            value = _number(stat, key, low, high)
            if value is not None:
                metadata[key] = str(value)
        meta = stat.get("meta")
        if isinstance(meta, dict):
            for key, value in list(meta.items())[:_MAX_META]:
                if isinstance(value, str):
                    metadata[key[:_MAX_META_TEXT]] = value[:_MAX_META_TEXT]
    except PacketError as error:
        raise _fail(DropReason.BAD_STAT, str(error)) from None
    time_text = stat.get("time")
    return GatewayStats(
        gateway_id=gateway_id,
        time_ns=parse_utc_ns(time_text) if isinstance(time_text, str) else None,
        location=location,
        rx_packets_received=counters["rxnb"],
        rx_packets_received_ok=counters["rxok"],
        tx_packets_received=counters["dwnb"],
        tx_packets_emitted=counters["txnb"],
        metadata=metadata,
    )
