"""scripts/install.sh and scripts/uninstall.sh run into a temporary root, and what they leave."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from appliance.config import load_config
from tests.cli_helpers import ROOT
from tests.deployment.conftest import APPLIANCE, needs_systemd_tools, os_root, run

pytestmark = [pytest.mark.slow, needs_systemd_tools]

INSTALL = ROOT / "scripts/install.sh"
UNINSTALL = ROOT / "scripts/uninstall.sh"
UNIT_DIR = "etc/systemd/system"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def _passwd(root: Path) -> dict[str, list[str]]:
    return {
        line.split(":")[0]: line.split(":")
        for line in (root / "etc/passwd").read_text().splitlines()
    }


def _members(root: Path, group: str) -> list[str]:
    for line in (root / "etc/group").read_text().splitlines():
        name, _, _, members = line.split(":")
        if name == group:
            return members.split(",") if members else []
    raise AssertionError(f"no group {group}")


def test_units_rules_and_settings_are_installed_with_their_modes(installed_root: Path) -> None:
    for unit in (
        "lorawan-appliance.service",
        "lorawan-appliance-firstboot.service",
        "lorawan-appliance-console.service",
    ):
        installed = installed_root / UNIT_DIR / unit
        assert installed.read_bytes() == (ROOT / "systemd" / unit).read_bytes()
        assert _mode(installed) == 0o644
    for path in (
        "etc/sysusers.d/lorawan-appliance.conf",
        "etc/udev/rules.d/60-lorawan-concentrator.rules",
        "etc/systemd/journald.conf.d/60-lorawan-appliance.conf",
        "etc/sysctl.d/60-lorawan-appliance.conf",
        "opt/lorawan-appliance/docs/deployment.md",
    ):
        assert _mode(installed_root / path) == 0o644, path
    # The Semtech UDP receive buffer the appliance asks for (receive_buffer_bytes, 4 MiB).
    sysctl = (installed_root / "etc/sysctl.d/60-lorawan-appliance.conf").read_text()
    assert "net.core.rmem_max = 4194304" in sysctl.splitlines()
    assert _mode(installed_root / "opt/lorawan-appliance/uninstall.sh") == 0o755
    assert _mode(installed_root / "opt/lorawan-appliance/readonly-root.sh") == 0o755
    # The read-only root's first-boot unit is installed but only the image enables it.
    unit = installed_root / UNIT_DIR / "lorawan-appliance-readonly-root.service"
    assert _mode(unit) == 0o644
    assert not (installed_root / UNIT_DIR / "multi-user.target.wants" / unit.name).exists()


def test_the_service_user_is_a_system_user_in_its_device_groups(installed_root: Path) -> None:
    user = _passwd(installed_root)["lorawan-appliance"]
    assert int(user[2]) < 1000  # a system UID
    assert user[5] == "/var/lib/lorawan-appliance"
    assert user[6] == "/usr/sbin/nologin"
    for group in ("spi", "gpio", "i2c", "dialout"):
        assert _members(installed_root, group) == ["lorawan-appliance"], group


def test_the_virtualenv_sees_the_os_packages_and_holds_the_appliance(installed_root: Path) -> None:
    venv = installed_root / "opt/lorawan-appliance/venv"
    assert "include-system-site-packages = true" in (venv / "pyvenv.cfg").read_text()
    imported = run(
        venv / "bin/python", "-I", "-c", "import appliance, sys; print(appliance.__file__)"
    )
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.startswith(str(venv)), imported.stdout
    assert (venv / "bin/appliance").is_file()
    link = installed_root / "usr/local/bin/appliance"
    assert os.readlink(link) == "/opt/lorawan-appliance/venv/bin/appliance"


def test_units_are_enabled_and_the_console_takes_tty1(installed_root: Path) -> None:
    wants = installed_root / UNIT_DIR / "multi-user.target.wants"
    for unit in (
        "lorawan-appliance.service",
        "lorawan-appliance-firstboot.service",
        "lorawan-appliance-console.service",
    ):
        assert os.readlink(wants / unit) == f"/etc/systemd/system/{unit}"
    assert not (installed_root / UNIT_DIR / "getty.target.wants/getty@tty1.service").exists()
    assert (installed_root / "opt/lorawan-appliance/console-took-tty1").exists()


def test_the_manifest_lists_what_was_installed(installed_root: Path) -> None:
    manifest = (installed_root / "opt/lorawan-appliance/installed-files").read_text().splitlines()
    assert "/etc/systemd/system/lorawan-appliance.service" in manifest
    assert "/usr/local/bin/appliance" in manifest
    for path in manifest:
        assert path.startswith("/")
        assert (installed_root / path.lstrip("/")).exists() or os.path.islink(
            installed_root / path.lstrip("/")
        ), path


def _install_without_venv(root: Path, *args: str) -> None:
    result = run(INSTALL, "--root", root, "--no-venv", "--appliance", APPLIANCE, *args)
    assert result.returncode == 0, result.stdout + result.stderr


def test_region_and_board_configure_during_install_and_a_rerun_keeps_them(
    tmp_path: Path,
) -> None:
    root = os_root(tmp_path / "root")
    _install_without_venv(root, "--region", "AU915", "--board", "none")
    config = root / "etc/lorawan-appliance/appliance.toml"
    assert load_config(config, {}).region == "AU915"
    config.write_text(config.read_text() + 'net_id = "000013"\n')

    again = run(INSTALL, "--root", root, "--no-venv", "--appliance", APPLIANCE)
    assert again.returncode == 0, again.stderr
    assert "keeping the configuration" in again.stdout
    loaded = load_config(config, {})
    assert (loaded.region, loaded.net_id) == ("AU915", "000013")


def test_without_a_region_the_first_boot_wizard_is_left_to_ask(tmp_path: Path) -> None:
    root = os_root(tmp_path / "root")
    result = run(INSTALL, "--root", root, "--no-venv")
    assert result.returncode == 0, result.stderr
    assert "first-boot wizard" in result.stdout
    assert not (root / "etc/lorawan-appliance/appliance.toml").exists()
    wants = root / UNIT_DIR / "multi-user.target.wants"
    assert (wants / "lorawan-appliance-firstboot.service").is_symlink()
    # Without --console the login prompt on tty1 stays.
    assert not (wants / "lorawan-appliance-console.service").exists()
    assert (root / UNIT_DIR / "getty.target.wants/getty@tty1.service").is_symlink()
    # Without --volatile-journal the system's journal settings are left alone.
    assert not (root / "etc/systemd/journald.conf.d").exists()


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--region", "EU868"], "--region and --board go together"),
        (["--board", "none"], "--region and --board go together"),
        (["--frobnicate"], "unknown option: --frobnicate"),
        (["--region"], "--region needs a value"),
    ],
)
def test_bad_options_stop_before_anything_changes(
    tmp_path: Path, args: list[str], fragment: str
) -> None:
    result = run(INSTALL, "--root", tmp_path, "--no-venv", *args)
    assert result.returncode == 2
    assert fragment in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_root_must_exist(tmp_path: Path) -> None:
    result = run(INSTALL, "--root", tmp_path / "missing", "--no-venv")
    assert result.returncode == 2
    assert "is not a directory" in result.stderr


def _installed_with_data(tmp_path: Path) -> Path:
    root = os_root(tmp_path / "root")
    _install_without_venv(root, "--region", "EU868", "--board", "none", "--console")
    state = root / "var/lib/lorawan-appliance"
    state.mkdir(parents=True)
    (state / "appliance.db").write_bytes(b"SQLite format 3\0")
    return root


def test_uninstall_removes_the_appliance_and_keeps_config_and_data(tmp_path: Path) -> None:
    root = _installed_with_data(tmp_path)
    result = run(UNINSTALL, "--root", root)
    assert result.returncode == 0, result.stdout + result.stderr
    assert not (root / "opt/lorawan-appliance").exists()
    assert not list((root / UNIT_DIR).glob("lorawan-appliance*"))
    assert not list((root / UNIT_DIR / "multi-user.target.wants").glob("lorawan-appliance*"))
    assert not (root / "etc/udev/rules.d/60-lorawan-concentrator.rules").exists()
    # tty1's login prompt is given back.
    assert (root / UNIT_DIR / "getty.target.wants/getty@tty1.service").is_symlink()
    # Kept: configuration, data, and the user that owns them.
    assert (root / "etc/lorawan-appliance/appliance.toml").is_file()
    assert (root / "var/lib/lorawan-appliance/appliance.db").read_bytes().startswith(b"SQLite")
    assert "lorawan-appliance" in _passwd(root)
    assert "kept:" in result.stdout


def test_uninstall_purge_deletes_config_and_data(tmp_path: Path) -> None:
    root = _installed_with_data(tmp_path)
    result = run(UNINSTALL, "--root", root, "--purge")
    assert result.returncode == 0, result.stdout + result.stderr
    assert not (root / "etc/lorawan-appliance").exists()
    assert not (root / "var/lib/lorawan-appliance").exists()
    assert "lorawan-appliance" in _passwd(root)


def test_uninstall_refuses_a_root_without_the_appliance(tmp_path: Path) -> None:
    result = run(UNINSTALL, "--root", tmp_path)
    assert result.returncode == 2
    assert "not installed" in result.stderr
