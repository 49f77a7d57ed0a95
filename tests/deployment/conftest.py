"""Fixtures for the deployment tests: a system root filled by the real installer.

The tests need systemd's offline tools (systemd-analyze, systemd-sysusers, systemctl --root);
``make test`` installs them with scripts/ensure-test-tools.sh.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli_helpers import ROOT

APPLIANCE = Path(sys.executable).parent / "appliance"
HOST_UNITS = Path("/usr/lib/systemd/system")
SYSTEMD_TOOLS = ("systemd-analyze", "systemd-sysusers", "systemctl")

needs_systemd_tools = pytest.mark.skipif(
    any(shutil.which(tool) is None for tool in SYSTEMD_TOOLS) or not HOST_UNITS.is_dir(),
    reason="systemd's tools are not installed: run scripts/ensure-test-tools.sh (apt: systemd)",
)


def run(*command: str | Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(part) for part in command],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def os_root(path: Path) -> Path:
    """An empty system root with the OS's unit library, as on Raspberry Pi OS before install."""
    (path / "usr/lib/systemd").mkdir(parents=True)
    shutil.copytree(HOST_UNITS, path / "usr/lib/systemd/system", symlinks=True)
    (path / "etc").mkdir()
    # The base system's coreutils, which the unit's ExecStartPre uses (chown).
    (path / "bin").mkdir()
    shutil.copy2(shutil.which("chown") or "/bin/chown", path / "bin/chown")
    # Raspberry Pi OS has a login prompt on tty1 that the console unit takes over.
    enabled = run("systemctl", f"--root={path}", "enable", "getty@tty1.service")
    assert enabled.returncode == 0, enabled.stderr
    return path


def write_profile(directory: Path, board: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{board}.toml"
    path.write_text(text, encoding="utf-8")
    return path


SPI_PROFILE = """
[bus]
kind = "spi"
device = "/dev/spidev0.0"

[gpio]
chip = "/dev/gpiochip0"

[temperature]
i2c_device = "/dev/i2c-1"
"""

USB_PROFILE = """
[bus]
kind = "usb"
device = "/dev/ttyACM0"
"""


@pytest.fixture(scope="session")
def installed_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """scripts/install.sh into a temporary root, with a real virtualenv and a board chosen.

    The virtualenv gets the project without its dependencies (--no-deps): the test checks what
    the installer builds, and the setup step runs with this checkout's appliance command.
    """
    if any(shutil.which(tool) is None for tool in SYSTEMD_TOOLS) or not HOST_UNITS.is_dir():
        pytest.skip("systemd's tools are not installed: run scripts/ensure-test-tools.sh")
    root = os_root(tmp_path_factory.mktemp("installed") / "root")
    profiles = tmp_path_factory.mktemp("profiles")
    write_profile(profiles, "test-corecell", SPI_PROFILE)
    result = run(
        ROOT / "scripts/install.sh",
        "--root", root,
        "--python", Path(sys.executable).resolve(),
        "--pip-args", "--no-deps",
        "--appliance", APPLIANCE,
        "--console",
        "--volatile-journal",
        timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    # The board comes from a profile written here (firmware_profiles/ may still be empty).
    setup = run(
        APPLIANCE, "setup", "--non-interactive", "--region", "US915", "--board", "test-corecell",
        "--root", root, "--profiles-dir", profiles, "--gateway-id", "b827ebfffe000001",
    )  # fmt: skip
    assert setup.returncode == 0, setup.stdout + setup.stderr
    yield root
