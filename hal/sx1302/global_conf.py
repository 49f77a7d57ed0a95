"""Semtech packet forwarder ``global_conf.json`` (its ``SX130x_conf``), for people migrating.

The file gives the concentrator configuration directly (radios, IF chains, TX gain tables);
it is accepted in place of a board profile and yields the same ``ConcentratorConfig``. The
forwarder's files carry C comments, which are removed before parsing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from appliance.lorawan.errors import InvalidValueError
from appliance.lorawan.identifiers import EUI64
from hal.sx1302.config import (
    ConcentratorConfig,
    FskChannel,
    MultiSfChannel,
    RadioConfig,
    RssiTemperatureCompensation,
    ServiceChannel,
    TxGain,
)
from hal.sx1302.errors import ProfileError
from hal.sx1302.profile_schema import TableReader


@dataclass(frozen=True, slots=True)
class GlobalConf:
    config: ConcentratorConfig
    bus_kind: str  # spi or usb
    device: str
    gateway_id: EUI64 | None


def strip_comments(text: str) -> str:
    """Remove ``/* */`` and ``//`` comments outside JSON strings."""
    out: list[str] = []
    index, size = 0, len(text)
    in_string = False
    while index < size:
        char = text[index]
        if in_string:
            out.append(char)
            if char == "\\" and index + 1 < size:
                out.append(text[index + 1])
                index += 1
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
            out.append(char)
        elif text.startswith("/*", index):
            end = text.find("*/", index + 2)
            index = size if end < 0 else end + 1
        elif text.startswith("//", index):
            end = text.find("\n", index)
            index = size if end < 0 else end - 1
        else:
            out.append(char)
        index += 1
    return "".join(out)


def load_global_conf(path: str | Path) -> GlobalConf:
    source = str(path)
    try:
        text = Path(path).read_text()
    except FileNotFoundError:
        raise ProfileError(f"global_conf file {source} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(f"cannot read {source}: {exc}") from None
    try:
        data = json.loads(strip_comments(text))
    except json.JSONDecodeError as exc:
        raise ProfileError(f"{source}: not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ProfileError(f"{source}: the top level must be an object")
    return parse_global_conf(data, source)


def _radio(reader: TableReader) -> RadioConfig:
    if not reader.boolean("enable", False):
        return RadioConfig()
    tcomp = reader.sub("rssi_tcomp")
    gains = []
    for index, row in enumerate(reader.array("tx_gain_lut", [])):
        if not isinstance(row, dict):
            raise reader.fail(f"tx_gain_lut[{index}]", "must be an object")
        entry = TableReader(row, reader.source, f"{reader.prefix}tx_gain_lut[{index}].")
        gains.append(
            TxGain(
                rf_power=entry.integer("rf_power", low=-10, high=32),
                pa_gain=entry.integer("pa_gain", 0, low=0, high=3),
                pwr_idx=entry.integer("pwr_idx", 0, low=0, high=22),
                dig_gain=entry.integer("dig_gain", 0, low=0, high=3),
            )
        )
    tx = reader.boolean("tx_enable", False)
    return RadioConfig(
        enable=True,
        frequency_hz=reader.integer("freq", low=100_000_000, high=1_100_000_000),
        radio_type=reader.string("type").lower(),
        rssi_offset=reader.number("rssi_offset", 0.0),
        rssi_tcomp=RssiTemperatureCompensation(*(tcomp.number(f"coeff_{k}", 0.0) for k in "abcde")),
        single_input_mode=reader.boolean("single_input_mode", False),
        tx_enable=tx,
        tx_min_hz=reader.integer("tx_freq_min", 0) if tx else 0,
        tx_max_hz=reader.integer("tx_freq_max", 0) if tx else 0,
        tx_gains=tuple(gains) if tx else (),
    )


def parse_global_conf(data: dict[str, Any], source: str) -> GlobalConf:
    top = TableReader(data, source)
    conf = top.sub("SX130x_conf", required=True)
    try:
        radios = (_radio(conf.sub("radio_0")), _radio(conf.sub("radio_1")))
        sfs = conf.sub("chan_multiSF_All").array("spreading_factor_enable", list(range(5, 13)))
        multi = []
        for n in range(8):
            channel = conf.sub(f"chan_multiSF_{n}")
            if channel.boolean("enable", False):
                multi.append(
                    MultiSfChannel(
                        True, channel.integer("radio", low=0, high=1), channel.integer("if")
                    )
                )
            else:
                multi.append(MultiSfChannel())
        std = conf.sub("chan_Lora_std")
        service = ServiceChannel()
        if std.boolean("enable", False):
            service = ServiceChannel(
                True,
                std.integer("radio", low=0, high=1),
                std.integer("if"),
                bandwidth_hz=std.integer("bandwidth", 250_000),
                spreading_factor=std.integer("spread_factor", 7, low=5, high=12),
                implicit_header=std.boolean("implicit_hdr", False),
                implicit_payload_length=std.integer("implicit_payload_length", 0, low=0, high=255),
                implicit_crc=std.boolean("implicit_crc_en", False),
                implicit_coderate=std.integer("implicit_coderate", 0, low=0, high=4),
            )
        fsk_table = conf.sub("chan_FSK")
        fsk = FskChannel()
        if fsk_table.boolean("enable", False):
            fsk = FskChannel(
                True,
                fsk_table.integer("radio", low=0, high=1),
                fsk_table.integer("if"),
                bandwidth_hz=fsk_table.integer("bandwidth", 125_000),
                datarate=fsk_table.integer("datarate", 50_000),
            )
        if conf.sub("fine_timestamp").boolean("enable", False):
            raise conf.fail("fine_timestamp.enable", "fine timestamping is not supported")
        config = ConcentratorConfig(
            radios=radios,
            multi_sf=tuple(multi),
            service=service,
            fsk=fsk,
            clock_source=conf.integer("clksrc", 0, low=0, high=1),
            lorawan_public=conf.boolean("lorawan_public", True),
            full_duplex=conf.boolean("full_duplex", False),
            multi_sf_spreading_factors=tuple(int(sf) for sf in sfs),
            antenna_gain_db=conf.number("antenna_gain", 0.0),
        )
    except ProfileError as exc:
        message = str(exc)
        raise ProfileError(
            message if message.startswith(source) else f"{source}: {message}"
        ) from None
    bus_kind = conf.choice("com_type", ("SPI", "USB"), "SPI").lower()
    device = conf.string("com_path", "/dev/spidev0.0" if bus_kind == "spi" else "/dev/ttyACM0")
    gateway_id = None
    identifier = top.sub("gateway_conf").optional_string("gateway_ID")
    if identifier is not None:
        try:
            gateway_id = EUI64(identifier)
        except InvalidValueError as exc:
            raise ProfileError(f"{source}: gateway_conf.gateway_ID: {exc}") from None
    return GlobalConf(config, bus_kind, device, gateway_id)
