"""The [mac] table: the MAC commands the network server originates, from the configuration
file, checked on load and handed to the running network server."""

from __future__ import annotations

from pathlib import Path

import pytest

from appliance.config import ApplianceConfig, ConfigError, load_config
from appliance.ns.mac import ADRAckParams, ForceRejoin, MACPolicy, TxParams
from appliance.runtime import Appliance
from appliance.runtime_setup import network_mac_policy

FULL = """
[mac]
max_duty_cycle = 3
max_new_channel_requests = 2
beacon_frequency = 0
dl_channels = { "3" = 868500000 }

[mac.tx_params]
uplink_dwell_time_400ms = true
downlink_dwell_time_400ms = false
max_eirp_index = 5

[mac.adr_ack]
limit_exp = 6
delay_exp = 5

[mac.force_rejoin]
at_f_cnt = 4000000000
period = 2
"""


def _load(tmp_path: Path, text: str) -> ApplianceConfig:
    path = tmp_path / "appliance.toml"
    path.write_text(text)
    return load_config(path, {"data_dir": tmp_path / "data"})


def test_no_table_is_the_default_policy(tmp_path: Path) -> None:
    assert network_mac_policy(_load(tmp_path, "")) == MACPolicy()


def test_the_table_becomes_the_policy(tmp_path: Path) -> None:
    policy = network_mac_policy(_load(tmp_path, FULL))
    assert policy == MACPolicy(
        max_duty_cycle=3,
        max_new_channel_requests=2,
        beacon_frequency=0,
        dl_channels={3: 868_500_000},
        tx_params=TxParams(True, False, 5),
        adr_ack=ADRAckParams(6, 5),
        force_rejoin=ForceRejoin(4_000_000_000, period=2),
    )


async def test_the_running_network_server_uses_it(tmp_path: Path) -> None:
    config = _load(
        tmp_path,
        'udp_bind = "127.0.0.1:0"\nbasic_station_bind = ""\napi_bind = ""\n'
        "[mac]\nenabled = false\nmax_duty_cycle = 4\n",
    )
    appliance = Appliance(config)
    await appliance.build()
    try:
        assert appliance.server.pipeline.policy == MACPolicy(enabled=False, max_duty_cycle=4)
    finally:
        await appliance.stop()


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("[mac]\nenabeld = false\n", "mac.enabeld: unknown key"),
        ("[mac]\nenabled = 1\n", "mac.enabled: must be true or false"),
        ('[mac]\nmax_duty_cycle = "3"\n', "mac.max_duty_cycle: must be an integer"),
        ("[mac]\nmax_duty_cycle = 16\n", "mac: max_duty_cycle must be 0..15, got 16"),
        ("[mac]\nmax_new_channel_requests = -1\n", "max_new_channel_requests must be 0..16"),
        ("[mac]\ntx_params = 5\n", "mac.tx_params: must be a table"),
        ("[mac.tx_params]\nmax_eirp_index = 3\n", "mac.tx_params: missing"),
        ("[mac.adr_ack]\nlimit_exp = 6\ndelay_exp = 16\n", "mac.adr_ack: delay_exp must be"),
        ("[mac.rejoin]\nmax_count_n = 1\nmax_time_n = 2\nevery = 3\n", "mac.rejoin.every"),
        ("[mac.force_rejoin]\nat_f_cnt = 10\nrejoin_type = 1\n", "rejoin_type must be 0 or 2"),
        ('[mac]\ndl_channels = { "x" = 868500000 }\n', "mac.dl_channels.x: the key must be"),
        ('[mac]\ndl_channels = { "3" = -1 }\n', "mac.dl_channels.3: must be a frequency"),
        ('mac = "x"\n', "mac must be a table"),
    ],
)
def test_bad_mac_settings_are_one_line(tmp_path: Path, text: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as error:
        _load(tmp_path, text)
    assert fragment in str(error.value)
    assert "\n" not in str(error.value)
