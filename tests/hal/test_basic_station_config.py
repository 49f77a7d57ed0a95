"""router_config from the regions, the SX1301 layout, router-info answers and the options."""

from __future__ import annotations

import json
from typing import Any

import pytest

from appliance.lorawan.errors import InvalidValueError
from appliance.lorawan.identifiers import EUI64, DevAddr, NetID
from appliance.lorawan.regions import REGION_NAMES, get_region
from hal.backend import BackendConfigError, backend_kinds, create_backend
from hal.basic_station import (
    BasicStationBackend,
    RouterSettings,
    StationDataRates,
    UpChannel,
    build_router_config,
    parse_options,
    region_channels,
)
from hal.basic_station.channels import channels_from_configuration
from hal.basic_station.discovery import answer_router_info, gateway_from_path, safe_host
from hal.basic_station.router_config import (
    net_id_filter_value,
    station_knows_region,
    station_region_name,
)
from hal.basic_station.sx1301 import demodulators, radio_layout, sx1301_conf
from hal.model import FSKChannel, GatewayConfiguration, LoRaChannel

NOW_NS = 1_700_000_000 * 10**9
UNDEFINED = [-1, 0, 0]


def _config(region: str, **settings: Any) -> dict[str, Any]:
    rates = StationDataRates(get_region(region))
    channels = region_channels(rates.region)
    return build_router_config(rates, channels, RouterSettings(**settings), NOW_NS)


def test_eu868_router_config_field_by_field() -> None:
    config = _config("EU868")
    assert config["msgtype"] == "router_config"
    assert config["region"] == "EU868"
    assert config["hwspec"] == "sx1301/1"
    assert config["freq_range"] == [863_000_000, 870_000_000]
    assert config["DRs"] == [
        [12, 125, 0],
        [11, 125, 0],
        [10, 125, 0],
        [9, 125, 0],
        [8, 125, 0],
        [7, 125, 0],
        [7, 250, 0],
        [0, 0, 0],  # DR7 is FSK
        *[UNDEFINED] * 8,  # DR8-11 are LR-FHSS, which an SX1301 cannot receive
    ]
    assert config["upchannels"] == [
        [f, 0, 5]
        for f in (
            867_100_000,
            867_300_000,
            867_500_000,
            867_700_000,
            867_900_000,
            868_100_000,
            868_300_000,
            868_500_000,
        )
    ]
    assert config["NetID"] is None
    assert config["JoinEui"] is None
    assert config["MuxTime"] == 1_700_000_000.0
    assert "max_eirp" not in config
    assert not {"nocca", "nodc", "nodwell"} & set(config)
    (board,) = config["sx1301_conf"]
    assert board["radio_0"] == {"enable": True, "freq": 867_400_000}
    assert board["radio_1"] == {"enable": True, "freq": 868_200_000}
    assert [board[f"chan_multiSF_{i}"] for i in range(8)] == [
        {"enable": True, "radio": radio, "if": offset}
        for radio in (0, 1)
        for offset in (-300_000, -100_000, 100_000, 300_000)
    ]
    assert board["chan_Lora_std"] == {"enable": False}
    assert board["chan_FSK"] == {"enable": False}
    json.dumps(config, allow_nan=False)  # everything is plain JSON


def test_us915_sub_band_2_router_config_field_by_field() -> None:
    config = _config("US915")
    assert config["region"] == "US915"
    assert config["freq_range"] == [902_000_000, 928_000_000]
    assert config["DRs"] == [
        [10, 125, 0],
        [9, 125, 0],
        [8, 125, 0],
        [7, 125, 0],
        [8, 500, 0],
        UNDEFINED,
        UNDEFINED,
        UNDEFINED,  # DR5-6 LR-FHSS, DR7 RFU
        [12, 500, 1],
        [11, 500, 1],
        [10, 500, 1],
        [9, 500, 1],
        [8, 500, 1],
        [7, 500, 1],
        UNDEFINED,
        UNDEFINED,
    ]
    narrow = [903_900_000 + 200_000 * i for i in range(8)]
    assert config["upchannels"] == sorted([[f, 0, 3] for f in narrow] + [[904_600_000, 4, 6]])
    (board,) = config["sx1301_conf"]
    assert board["radio_0"] == {"enable": True, "freq": 904_300_000}
    assert board["radio_1"] == {"enable": True, "freq": 905_000_000}
    assert [board[f"chan_multiSF_{i}"] for i in range(8)] == [
        {"enable": True, "radio": 0, "if": offset} for offset in (-400_000, -200_000, 0, 200_000)
    ] + [
        {"enable": True, "radio": 1, "if": offset}
        for offset in (-300_000, -100_000, 100_000, 300_000)
    ]
    assert board["chan_Lora_std"] == {
        "enable": True,
        "radio": 0,
        "if": 300_000,
        "bandwidth": 500_000,
        "spread_factor": 8,
    }
    assert board["chan_FSK"] == {"enable": False}


def test_filters_and_switches() -> None:
    config = _config(
        "EU868",
        net_ids=(NetID("000013"), NetID("600013"), NetID("000013")),
        join_eui_ranges=(
            (EUI64(1), EUI64(0xFF)),
            (EUI64(0xFFFFFFFFFFFFFFF0), EUI64(-1 & (2**64 - 1))),
        ),
        max_eirp_dbm=14.0,
        nodc=True,
    )
    # Type 0: the NetID itself. Type 3 (0x600013): DevAddr prefix 1110 + the NwkID's top 3 bits.
    assert config["NetID"] == [0x13, 0b1110000]
    assert config["JoinEui"] == [[1, 255], [0xFFFFFFFFFFFFFFF0, 0xFFFFFFFFFFFFFFFF]]
    assert config["max_eirp"] == 14.0
    assert config["nodc"] is True
    assert "nocca" not in config


def test_net_id_filter_matches_every_dev_addr_of_the_net_id() -> None:
    for net_id in (
        NetID("000000"),
        NetID("000013"),
        NetID("20002a"),
        NetID("c00155"),
        NetID("fffffe"),
    ):
        value = net_id_filter_value(net_id)
        addresses = (DevAddr.from_net_id(net_id, 0), DevAddr.from_net_id(net_id, 1))
        assert {int(address) >> 25 for address in addresses} == {value}


@pytest.mark.parametrize(
    ("region", "station_name", "known"),
    [
        ("EU868", "EU868", True),
        ("US915", "US915", True),
        ("AU915", "AU915", True),
        ("AS923-1", "AS923-1", True),
        ("AS923-3", "AS923-1", True),
        ("KR920", "KR920", True),
        ("IN865", "IN865", False),
        ("RU864", "RU864", False),
        ("CN470-20A", "CN470-20A", False),
    ],
)
def test_station_region_names(region: str, station_name: str, known: bool) -> None:
    assert station_region_name(get_region(region)) == station_name
    assert station_knows_region(get_region(region)) is known


@pytest.mark.parametrize("name", REGION_NAMES)
def test_every_region_gets_a_valid_router_config(name: str) -> None:
    config = _config(name)
    assert len(config["DRs"]) == 16
    assert 1 <= len(config["upchannels"]) <= 9
    low, high = config["freq_range"]
    assert all(low <= f <= high and 0 <= a <= b <= 7 for f, a, b in config["upchannels"])
    board = config["sx1301_conf"][0]
    limits = {125_000: 400_000, 250_000: 375_000, 500_000: 300_000}
    for key, entry in board.items():
        if key.startswith("chan_") and entry["enable"]:
            assert board[f"radio_{entry['radio']}"]["enable"]
            assert abs(entry["if"]) <= limits[entry.get("bandwidth", 125_000)]


def test_eu868_with_lora_standard_and_fsk_channels() -> None:
    rates = StationDataRates(get_region("EU868"))
    channels = region_channels(
        rates.region, extra=[UpChannel(868_300_000, 6, 6), UpChannel(868_800_000, 7, 7)]
    )
    board = sx1301_conf(channels, rates)
    assert sum(board[f"chan_multiSF_{i}"]["enable"] for i in range(8)) == 3
    assert board["chan_Lora_std"] | {"if": 0, "radio": 0} == {
        "enable": True,
        "radio": 0,
        "if": 0,
        "bandwidth": 250_000,
        "spread_factor": 7,
    }
    assert board["chan_FSK"]["datarate"] == 50_000
    fsk_radio = board[f"radio_{board['chan_FSK']['radio']}"]["freq"]
    assert fsk_radio + board["chan_FSK"]["if"] == 868_800_000


def test_layouts_one_sx1301_cannot_hear() -> None:
    rates = StationDataRates(get_region("US915"))
    too_many = [UpChannel(902_300_000 + 200_000 * i, 0, 3) for i in range(9)]
    with pytest.raises(InvalidValueError, match="8 multi-SF"):
        demodulators(too_many, rates)
    too_wide = [
        UpChannel(902_300_000, 0, 3),
        UpChannel(905_000_000, 0, 3),
        UpChannel(910_000_000, 0, 3),
    ]
    with pytest.raises(InvalidValueError, match="two radios"):
        radio_layout(demodulators(too_wide, rates))


def test_channels_from_a_gateway_configuration() -> None:
    rates = StationDataRates(get_region("EU868"))
    gateway = EUI64(1)
    configuration = GatewayConfiguration(
        gateway,
        "v1",
        (
            LoRaChannel(868_100_000, 125_000, (7, 8, 9, 10, 11, 12)),
            LoRaChannel(868_300_000, 250_000, (7,)),
            FSKChannel(868_800_000, 125_000, 50_000),
        ),
    )
    assert channels_from_configuration(configuration, rates) == (
        UpChannel(868_100_000, 0, 5),
        UpChannel(868_300_000, 6, 6),
        UpChannel(868_800_000, 7, 7),
    )
    odd = GatewayConfiguration(gateway, "v2", (LoRaChannel(868_100_000, 500_000, (7,)),))
    with pytest.raises(InvalidValueError, match="no uplink data rate"):
        channels_from_configuration(odd, rates)


def test_region_channel_choices() -> None:
    au915 = region_channels(get_region("AU915"), sub_band=1)
    assert au915[0] == UpChannel(915_200_000, 0, 5)
    assert UpChannel(915_900_000, 6, 7) in au915
    assert region_channels(get_region("AS923-2"), extra=[]) == (
        UpChannel(921_400_000, 0, 5),
        UpChannel(921_600_000, 0, 5),
    )
    assert len(region_channels(get_region("CN470-26A"), sub_band=6)) == 8
    with pytest.raises(InvalidValueError):
        region_channels(get_region("CN470-26A"), sub_band=7)
    with pytest.raises(InvalidValueError, match="outside EU868"):
        region_channels(get_region("EU868"), extra=[UpChannel(915_000_000, 0, 5)])
    with pytest.raises(InvalidValueError, match="data rates"):
        UpChannel(868_100_000, 0, 8)


def _refuse_unknown(gateway_id: EUI64) -> str | None:
    return None if gateway_id == EUI64("0102030405060708") else "unknown gateway"


@pytest.mark.parametrize(
    "router", ["102:304:506:708", "01-02-03-04-05-06-07-08", 0x0102030405060708]
)
def test_router_info_answers(router: object) -> None:
    answer = answer_router_info(
        json.dumps({"router": router}), base_uri="ws://lns:3001", refuse=_refuse_unknown
    )
    assert answer.accepted
    assert json.loads(answer.text) == {
        "router": "102:304:506:708",
        "muxs": "102:304:506:708",
        "uri": "ws://lns:3001/gateway/0102030405060708",
    }


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ('{"router": "::1"}', "unknown gateway"),
        ('{"router": "zz"}', "not an EUI"),
        ('{"router": null}', "EUI"),
        ("[1]", "EUI"),
        ("not json", "not JSON"),
    ],
)
def test_router_info_refusals(text: str, error: str) -> None:
    answer = answer_router_info(text, base_uri="ws://lns:3001", refuse=_refuse_unknown)
    assert not answer.accepted
    assert error in json.loads(answer.text)["error"]


def test_gateway_paths_and_hosts() -> None:
    assert gateway_from_path("/gateway/0102030405060708") == EUI64("0102030405060708")
    assert gateway_from_path("/gateway/1%3A2%3A3%3A4?x=1") == EUI64("0001000200030004")
    assert gateway_from_path("/gateway/") is None
    assert gateway_from_path("/other/1") is None
    assert safe_host("lns.example:3001", "x") == "lns.example:3001"
    assert safe_host("[::1]:3001", "x") == "[::1]:3001"
    assert safe_host("evil/path", "127.0.0.1:3001") == "127.0.0.1:3001"


def test_options_defaults() -> None:
    options = parse_options({})
    assert (options.host, options.port) == ("0.0.0.0", 3001)
    assert options.region.name == "EU868"
    assert len(options.channels) == 8
    assert options.allowed_gateways == frozenset() and options.tokens is None
    assert options.max_message_bytes == 65_536
    assert options.tx_ack_timeout_s == 5.0
    assert options.settings == RouterSettings()


def test_options_full() -> None:
    options = parse_options(
        {
            "bind": "[::1]:0",
            "region": "us915",
            "sub_band": 1,
            "allowed_gateways": ["1:2:3:4"],
            "tokens": {"0001000200030004": "Bearer x"},
            "net_ids": ["000013", 0x13],
            "join_euis": ["70b3d57ed0000000", ["0000000000000001", "00000000000000ff"]],
            "max_eirp_dbm": 20,
            "nocca": True,
            "tx_ack_timeout_s": 1,
            "max_message_bytes": 4096,
            "max_queue": 5,
            "rate_limit_per_s": 10,
            "max_pending_downlinks": 2,
        }
    )
    gateway = EUI64("0001000200030004")
    assert (options.host, options.port) == ("::1", 0)
    assert options.channels[0].frequency_hz == 902_300_000
    assert options.tokens == {gateway: "Bearer x"}
    assert options.admits(gateway) and not options.admits(EUI64(5))
    assert options.settings.join_eui_ranges == (
        (EUI64("70b3d57ed0000000"), EUI64("70b3d57ed0000000")),
        (EUI64(1), EUI64(255)),
    )
    assert options.settings.max_eirp_dbm == 20.0 and options.settings.nocca


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"bind": "3001"}, "bind"),
        ({"region": "XX1"}, "region"),
        ({"colour": 1}, "colour"),
        ({"tokens": {"zz": "x"}}, "tokens"),
        ({"tokens": ["x"]}, "tokens"),
        ({"allowed_gateways": "1"}, "allowed_gateways"),
        ({"net_ids": ["zz"]}, "net_ids"),
        ({"join_euis": [["02", "01"]]}, "join_euis"),
        ({"tls_cert": "c.pem"}, "tls_cert"),
        ({"tls_client_ca": "ca.pem"}, "tls_client_ca"),
        ({"max_queue": 0}, "max_queue"),
        ({"tx_ack_timeout_s": "5"}, "tx_ack_timeout_s"),
        ({"nodc": 1}, "nodc"),
        ({"extra_channels": [[868_100_000, 0, 9]]}, "extra_channels"),
        ({"region": "US915", "sub_band": 9}, "sub_band"),
        ({"sub_band": True}, "sub_band"),
    ],
)
def test_options_refused_with_their_name(options: dict[str, Any], named: str) -> None:
    with pytest.raises(BackendConfigError, match=named):
        parse_options(options)


def test_registered_kind() -> None:
    assert "basic-station" in backend_kinds()
    backend = create_backend("basic-station", {"bind": "127.0.0.1:0"})
    assert isinstance(backend, BasicStationBackend)
    assert backend.name == "basic-station"
