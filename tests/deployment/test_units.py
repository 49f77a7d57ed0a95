"""The unit files, checked by systemd itself on a root filled by the real installer."""

from __future__ import annotations

import configparser
import re
from pathlib import Path

import pytest

from tests.cli_helpers import ROOT
from tests.deployment.conftest import run

pytestmark = pytest.mark.slow

UNITS = sorted(path.name for path in (ROOT / "systemd").glob("*.service"))


def test_every_unit_in_the_tree_is_checked() -> None:
    assert UNITS == [
        "lorawan-appliance-console.service",
        "lorawan-appliance-firstboot.service",
        "lorawan-appliance-readonly-root.service",
        "lorawan-appliance.service",
    ]


@pytest.mark.parametrize("unit", UNITS)
def test_systemd_analyze_verify_passes_without_a_warning(installed_root: Path, unit: str) -> None:
    # --root: the installed units, their drop-ins and the virtualenv's ExecStart, as on the Pi.
    result = run("systemd-analyze", "verify", f"--root={installed_root}", unit)
    assert result.returncode == 0, result.stderr
    assert result.stderr == "", result.stderr


def test_verify_catches_a_broken_unit(installed_root: Path, tmp_path: Path) -> None:
    # The check above would catch a typo: the same tool on a copy with one key misspelt.
    broken = installed_root / "etc/systemd/system/lorawan-appliance-typo.service"
    text = (ROOT / "systemd/lorawan-appliance.service").read_text()
    broken.write_text(text.replace("NoNewPrivileges=yes", "NoNewPrivilege=yes"))
    try:
        result = run("systemd-analyze", "verify", f"--root={installed_root}", broken.name)
    finally:
        broken.unlink()
    assert "Unknown key 'NoNewPrivilege'" in result.stderr


def test_the_service_sandbox_rates_ok(installed_root: Path) -> None:
    # --threshold counts in tenths: exit non-zero above an exposure of 2.5 ("OK" is below 4).
    result = run(
        "systemd-analyze", "security", "--offline=true", f"--root={installed_root}",
        "--threshold=25", "--no-pager", "lorawan-appliance.service",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    level = re.search(r"Overall exposure level for \S+: (\d+\.\d)", result.stdout)
    assert level is not None, result.stdout
    assert float(level.group(1)) <= 2.5


def test_the_drop_in_is_part_of_the_service(installed_root: Path) -> None:
    # What systemd will read for the unit: the file, then its drop-ins in order.
    result = run(
        "systemd-analyze", f"--root={installed_root}", "cat-config",
        "systemd/system/lorawan-appliance.service",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert "lorawan-appliance.service.d/50-devices.conf" in text
    assert text.index("DevicePolicy=closed") < text.index("DeviceAllow=/dev/spidev0.0 rw")


def _unit(name: str) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(strict=False, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(ROOT / "systemd" / name)
    return parser


def test_the_service_promises_what_the_issue_asks() -> None:
    service = _unit("lorawan-appliance.service")["Service"]
    assert service["Type"] == "notify"
    assert service["WatchdogSec"] == "30s"
    assert service["Restart"] == "on-failure"
    assert service["User"] == "lorawan-appliance"
    assert service["StateDirectory"] == "lorawan-appliance"
    assert service["ProtectSystem"] == "strict"
    assert service["NoNewPrivileges"] == "yes"
    assert service["DevicePolicy"] == "closed"
    assert "DeviceAllow" not in service  # only the generated drop-in opens devices
    assert service["ExecStart"].split()[1:] == [
        "run", "--config", "/etc/lorawan-appliance/appliance.toml",
        "--data-dir", "/var/lib/lorawan-appliance",
    ]  # fmt: skip


def test_sysusers_gives_the_user_only_its_device_groups() -> None:
    lines = [
        line.split()
        for line in (ROOT / "systemd/sysusers.d/lorawan-appliance.conf").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert lines[0][:2] == ["u", "lorawan-appliance"]
    assert sorted(line[2] for line in lines if line[0] == "m") == ["dialout", "gpio", "i2c", "spi"]


# journald.conf(5) keys of systemd 252, the version on Raspberry Pi OS Bookworm.
_JOURNALD_KEYS = {
    "Storage", "Compress", "Seal", "SplitMode", "SyncIntervalSec", "RateLimitIntervalSec",
    "RateLimitBurst", "SystemMaxUse", "SystemKeepFree", "SystemMaxFileSize", "SystemMaxFiles",
    "RuntimeMaxUse", "RuntimeKeepFree", "RuntimeMaxFileSize", "RuntimeMaxFiles",
    "MaxRetentionSec", "MaxFileSec", "ForwardToSyslog", "ForwardToKMsg", "ForwardToConsole",
    "ForwardToWall", "TTYPath", "MaxLevelStore", "MaxLevelSyslog", "MaxLevelKMsg",
    "MaxLevelConsole", "MaxLevelWall", "LineMax", "ReadKMsg", "Audit",
}  # fmt: skip


def test_journald_settings_keep_the_journal_in_ram() -> None:
    parser = configparser.RawConfigParser()
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(ROOT / "systemd/journald.conf.d/60-lorawan-appliance.conf")
    assert parser.sections() == ["Journal"]
    journal = parser["Journal"]
    assert set(journal) <= _JOURNALD_KEYS, set(journal) - _JOURNALD_KEYS
    assert journal["Storage"] == "volatile"
    assert journal["ForwardToSyslog"] == "no"


_UDEV_PAIR = re.compile(r'([A-Z_]+(?:\{[A-Za-z0-9_]+\})?)(==|!=|\+=|=|:=)"([^"]*)"')
_UDEV_MATCH_KEYS = {"SUBSYSTEM", "KERNEL", "ATTRS", "ACTION", "ENV"}
_UDEV_ASSIGN_KEYS = {"SYMLINK", "GROUP", "MODE", "ENV", "OWNER", "TAG"}


def test_udev_rules_are_well_formed() -> None:
    # systemd 252 has no `udevadm verify`; this checks the shape udev parses: KEY op "value".
    rules = (ROOT / "systemd/udev/60-lorawan-concentrator.rules").read_text().splitlines()
    checked = 0
    for line in rules:
        if not line.strip() or line.startswith("#"):
            continue
        pairs = [pair.strip() for pair in line.split(", ")]
        for pair in pairs:
            match = _UDEV_PAIR.fullmatch(pair)
            assert match is not None, pair
            key, operator, _ = match.groups()
            base = key.split("{")[0]
            allowed = _UDEV_MATCH_KEYS if operator in ("==", "!=") else _UDEV_ASSIGN_KEYS
            assert base in allowed, pair
        checked += 1
    assert checked >= 2
    text = "\n".join(rules)
    assert 'SYMLINK+="lorawan/concentrator-usb"' in text
    assert 'ENV{ID_MM_DEVICE_IGNORE}="1"' in text
