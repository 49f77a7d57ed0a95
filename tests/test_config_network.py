"""The [network] table: network-server policy from the configuration file, checked on load."""

from __future__ import annotations

from pathlib import Path

import pytest

from appliance.config import ConfigError, load_config
from appliance.runtime import network_settings


def _load(tmp_path: Path, text: str) -> object:
    path = tmp_path / "appliance.toml"
    path.write_text(text)
    return load_config(path, {"data_dir": tmp_path})


def test_network_table_reaches_the_settings(tmp_path: Path) -> None:
    config = _load(
        tmp_path,
        '[network]\nconfirmed_downlink_timeout_s = 120\nrx_window = "rx2_only"\n'
        'dev_addr_prefix = "00001000/24"\n',
    )
    settings = network_settings(config)  # type: ignore[arg-type]
    assert settings.confirmed_downlink_timeout_s == 120
    assert settings.rx_window == "rx2_only"
    assert settings.dev_addr_prefix == "00001000/24"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("[network]\nbogus = 1\n", "network.bogus: unknown key"),
        ('[network]\nrx_window = "rx3"\n', "network: rx_window"),
        ("[network]\nrx1_delay_s = 99\n", "network: rx1_delay_s"),
        ('network = "x"\n', "network must be a table"),
    ],
)
def test_bad_network_settings_are_one_line(tmp_path: Path, text: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as error:
        _load(tmp_path, text)
    assert fragment in str(error.value)
    assert "\n" not in str(error.value)
