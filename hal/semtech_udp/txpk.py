"""Downstream JSON: a ``DownlinkItem`` as a ``txpk`` object, and ``txpk_ack`` as a status.

The ``txpk`` text is written by hand so the frequency is exact: ``868.100000`` comes from integer
arithmetic on the Hz value, not from a float's shortest repr.
"""

from __future__ import annotations

import json
from base64 import b64encode
from typing import Final

from hal.model import (
    CodeRate,
    Delay,
    DownlinkItem,
    FSKModulation,
    GPSEpoch,
    Immediately,
    LoRaModulation,
    TxAckStatus,
)
from hal.semtech_udp.packets import DropReason, PacketError
from hal.semtech_udp.timestamps import TMST_MODULUS

_MIN_POWER_DBM: Final = -30  # forwarders read powe into an int8; beyond these it is a mistake
_MAX_POWER_DBM: Final = 40
_REFUSALS: Final = {
    status.name: status
    for status in TxAckStatus
    if status not in (TxAckStatus.IGNORED, TxAckStatus.OK)
}


class DownlinkEncodeError(Exception):
    """An item cannot be written as a ``txpk`` (our side's fault); ``status`` goes in its ack."""

    def __init__(self, status: TxAckStatus, message: str) -> None:
        super().__init__(message)
        self.status = status


def _lora_fields(modulation: LoRaModulation, lorawan_flags: bool) -> list[str]:
    if modulation.code_rate is CodeRate.UNDEFINED:
        raise DownlinkEncodeError(TxAckStatus.INTERNAL_ERROR, "a LoRa downlink needs a code rate")
    # LoRaWAN downlinks use inverted IQ and no PHY CRC (LoRaWAN 1.0.4 §4.1, RP002 §2).
    # The model's booleans default to False, so "not set" cannot be told from "off": with
    # lorawan_flags the LoRaWAN convention wins, without it the modulation is taken as given.
    ipol = lorawan_flags or modulation.polarization_inversion
    ncrc = lorawan_flags or modulation.no_crc
    fields = [
        '"modu":"LORA"',
        f'"datr":"{modulation.datr}"',
        f'"codr":"{modulation.code_rate.text}"',
        f'"ipol":{"true" if ipol else "false"}',
    ]
    if modulation.preamble:
        fields.append(f'"prea":{modulation.preamble}')
    if ncrc:
        fields.append('"ncrc":true')
    return fields


def _fsk_fields(modulation: FSKModulation) -> list[str]:
    # LoRaWAN's only FSK rate is 50 kbit/s with 25 kHz deviation: half the bit rate is the
    # convention when the caller leaves the deviation at 0 (forwarders need an fdev).
    deviation = modulation.frequency_deviation or modulation.datarate // 2
    return ['"modu":"FSK"', f'"datr":{modulation.datarate}', f'"fdev":{deviation}']


def txpk_json(item: DownlinkItem, *, lorawan_flags: bool = True) -> bytes:
    """``{"txpk":{...}}`` for one downlink item; raises ``DownlinkEncodeError``."""
    tx_info = item.tx_info
    timing = tx_info.timing
    if isinstance(timing, Immediately):
        fields = ['"imme":true']
    elif isinstance(timing, Delay):
        if len(tx_info.context) < 4:
            raise DownlinkEncodeError(
                TxAckStatus.INTERNAL_ERROR, "delay timing needs the uplink's 4-byte tmst context"
            )
        # The counter wraps at 2^32 µs; so does the transmit time derived from it.
        tmst = (int.from_bytes(tx_info.context[:4], "big") + timing.delay_ns // 1000) % (
            TMST_MODULUS
        )
        fields = ['"imme":false', f'"tmst":{tmst}']
    elif isinstance(timing, GPSEpoch):
        if timing.time_since_gps_epoch_ns < 0:
            raise DownlinkEncodeError(TxAckStatus.INTERNAL_ERROR, "GPS time before the epoch")
        fields = ['"imme":false', f'"tmms":{timing.time_since_gps_epoch_ns // 1_000_000}']
    else:  # pragma: no cover - the Timing union is closed
        raise DownlinkEncodeError(TxAckStatus.INTERNAL_ERROR, f"unknown timing {timing!r}")

    frequency = tx_info.frequency
    if not 0 < frequency < 10_000_000_000:
        raise DownlinkEncodeError(TxAckStatus.TX_FREQ, f"frequency {frequency} Hz")
    if not _MIN_POWER_DBM <= tx_info.power <= _MAX_POWER_DBM:
        raise DownlinkEncodeError(TxAckStatus.TX_POWER, f"power {tx_info.power} dBm")
    fields.append(f'"freq":{frequency // 1_000_000}.{frequency % 1_000_000:06d}')
    fields.append('"rfch":0')
    fields.append(f'"powe":{tx_info.power}')
    modulation = tx_info.modulation
    if isinstance(modulation, LoRaModulation):
        fields += _lora_fields(modulation, lorawan_flags)
    elif isinstance(modulation, FSKModulation):
        fields += _fsk_fields(modulation)
    else:
        raise DownlinkEncodeError(
            TxAckStatus.INTERNAL_ERROR, "the Semtech UDP protocol cannot transmit LR-FHSS"
        )
    if len(item.phy_payload) > 255:
        raise DownlinkEncodeError(TxAckStatus.INTERNAL_ERROR, "payload exceeds 255 bytes")
    fields.append(f'"size":{len(item.phy_payload)}')
    fields.append(f'"data":"{b64encode(item.phy_payload).decode("ascii")}"')
    # brd/ant are ChirpStack extensions that single-board forwarders ignore; only sent when set.
    if tx_info.board:
        fields.append(f'"brd":{tx_info.board}')
    if tx_info.antenna:
        fields.append(f'"ant":{tx_info.antenna}')
    return ('{"txpk":{' + ",".join(fields) + "}}").encode("ascii")


def tx_ack_status(payload: bytes) -> TxAckStatus:
    """The status a TX_ACK reports. No JSON, ``{}``, ``"error":"NONE"`` or only a ``warn``
    (e.g. TX_POWER: sent at a lower power) mean sent; unknown errors are INTERNAL_ERROR.

    Raises ``PacketError`` (``bad_json``) when there is JSON but it cannot be read.
    """
    text = payload.rstrip(b"\x00 \r\n\t")  # the sx1302 forwarder's buffer may carry a NUL
    if not text:
        return TxAckStatus.OK
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        raise PacketError(DropReason.BAD_JSON, "TX_ACK JSON cannot be read") from None
    if not isinstance(document, dict):
        raise PacketError(DropReason.BAD_JSON, "TX_ACK JSON is not an object")
    ack = document.get("txpk_ack")
    if not isinstance(ack, dict):
        return TxAckStatus.OK
    error = ack.get("error")
    if error is None:
        return TxAckStatus.OK
    if not isinstance(error, str):
        return TxAckStatus.INTERNAL_ERROR
    name = error.strip().upper()
    if name in ("", "NONE"):
        return TxAckStatus.OK
    return _REFUSALS.get(name, TxAckStatus.INTERNAL_ERROR)
