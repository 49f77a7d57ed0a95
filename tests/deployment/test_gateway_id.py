"""The gateway ID from the Ethernet MAC, read from a sysfs-shaped directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from appliance.lorawan.identifiers import EUI64
from appliance.service.gateway_id import eui64_from_mac, identity_from_mac
from tests.cli_helpers import appliance, assert_usage_error


def _interface(net: Path, name: str, mac: str, *, physical: bool = True, kind: str = "1") -> None:
    directory = net / name
    directory.mkdir(parents=True)
    (directory / "address").write_text(mac + "\n")
    (directory / "type").write_text(kind + "\n")
    if physical:
        (directory / "device").mkdir()  # in sysfs a link to the bus device


@pytest.mark.parametrize(
    ("mac", "eui"),
    [
        ("b8:27:eb:12:34:56", "b827ebfffe123456"),
        ("DC:A6:32:01:02:03", "dca632fffe010203"),
        (" 2c:cf:67:aa:bb:cc\n", "2ccf67fffeaabbcc"),
    ],
)
def test_eui64_inserts_fffe_in_the_middle(mac: str, eui: str) -> None:
    assert eui64_from_mac(mac) == EUI64(eui)


@pytest.mark.parametrize("mac", ["", "b8:27:eb:12:34", "b8-27-eb-12-34-56", "zz:27:eb:12:34:56"])
def test_eui64_refuses_what_is_not_a_mac(mac: str) -> None:
    with pytest.raises(ValueError, match="not a MAC address"):
        eui64_from_mac(mac)


def test_wired_interfaces_win_over_wireless_and_virtual_ones(tmp_path: Path) -> None:
    _interface(tmp_path, "lo", "00:00:00:00:00:00", physical=False, kind="772")
    _interface(tmp_path, "docker0", "02:42:ac:11:00:02", physical=False)
    _interface(tmp_path, "wlan0", "b8:27:eb:99:99:99")
    _interface(tmp_path, "eth0", "b8:27:eb:12:34:56")
    identity = identity_from_mac(tmp_path)
    assert identity is not None
    assert identity.gateway_id == EUI64("b827ebfffe123456")
    assert identity.source == "MAC b8:27:eb:12:34:56 of eth0"


def test_wireless_is_the_fallback(tmp_path: Path) -> None:
    _interface(tmp_path, "wlan0", "b8:27:eb:99:99:99")
    identity = identity_from_mac(tmp_path)
    assert identity is not None
    assert str(identity.gateway_id) == "b827ebfffe999999"


def test_no_physical_interface_gives_no_identity(tmp_path: Path) -> None:
    _interface(tmp_path, "lo", "00:00:00:00:00:00", physical=False, kind="772")
    _interface(tmp_path, "eth0", "00:00:00:00:00:00")  # a NIC without a burnt-in address
    assert identity_from_mac(tmp_path) is None
    assert identity_from_mac(tmp_path / "missing") is None


def test_cli_prints_the_id_and_where_it_came_from(tmp_path: Path) -> None:
    _interface(tmp_path, "end0", "2c:cf:67:aa:bb:cc")
    result = appliance("service", "gateway-id", "--sys-class-net", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "2ccf67fffeaabbcc (MAC 2c:cf:67:aa:bb:cc of end0)"


def test_cli_says_when_there_is_no_mac(tmp_path: Path) -> None:
    result = appliance("service", "gateway-id", "--sys-class-net", str(tmp_path))
    assert_usage_error(result, "no physical network interface")
