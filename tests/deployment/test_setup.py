"""``appliance setup`` below a temporary root: the files it writes and the questions it asks.

Most cases call the command's ``main`` in this process (the import of every command costs
seconds per process); two run the real command in a subprocess, as the first-boot unit does.
"""

from __future__ import annotations

import io
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest

from appliance.cli.main import main
from appliance.config import load_config
from appliance.service.config_edit import set_backend, set_region
from hal.registry import backend_kinds
from tests.cli_helpers import ROOT, appliance, assert_usage_error
from tests.deployment.conftest import SPI_PROFILE, USB_PROFILE, needs_systemd_tools, write_profile

PROFILES = "opt/lorawan-appliance/firmware_profiles"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    write_profile(root / PROFILES, "corecell", SPI_PROFILE)
    write_profile(root / PROFILES, "corecell-usb", USB_PROFILE)
    return root


Setup = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def setup(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Setup:
    """``appliance setup --root ROOT ARGS`` with ``answers`` on standard input."""

    def call(root: Path, *args: str, answers: str = "") -> subprocess.CompletedProcess[str]:
        monkeypatch.setattr(sys, "stdin", io.StringIO(answers))
        capsys.readouterr()
        try:
            code = main(["setup", "--root", str(root), *args])
        except SystemExit as exc:  # argparse's own usage errors
            code = int(exc.code or 0)
        out, err = capsys.readouterr()
        return subprocess.CompletedProcess(["appliance", "setup"], code, out, err)

    return call


def _answer(root: Path, answers: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "appliance", "setup", "--root", str(root), *args],
        cwd=ROOT,
        input=answers,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _config(root: Path) -> Path:
    return root / "etc/lorawan-appliance/appliance.toml"


def _gateway(root: Path) -> dict[str, object]:
    return tomllib.loads((root / "etc/lorawan-appliance/gateway.toml").read_text())


def _drop_in(root: Path) -> list[str]:
    path = root / "etc/systemd/system/lorawan-appliance.service.d/50-devices.conf"
    return [line for line in path.read_text().splitlines() if not line.startswith("#")]


def test_non_interactive_writes_config_gateway_and_drop_in(root: Path) -> None:
    # The real command, as the installer runs it.
    result = appliance(
        "setup", "--root", str(root), "--non-interactive", "--region", "us915",
        "--board", "corecell", "--gateway-id", "B827EBFFFE000001",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "region US915, board corecell" in result.stdout
    assert load_config(_config(root), {}).region == "US915"
    assert _gateway(root) == {
        "board": "corecell",
        "profile": f"/{PROFILES}/corecell.toml",  # as the target system sees it
        "gateway_id": "b827ebfffe000001",
        "gateway_id_source": "given to appliance setup",
    }
    assert _drop_in(root) == [
        "[Service]",
        "DeviceAllow=/dev/spidev0.0 rw",
        "DeviceAllow=/dev/gpiochip0 rw",
        "DeviceAllow=/dev/i2c-1 rw",
    ]
    for path in (_config(root), root / "etc/lorawan-appliance/gateway.toml"):
        assert path.stat().st_mode & 0o777 == 0o644


def test_a_rerun_changes_region_and_board_and_keeps_the_rest(root: Path, setup: Setup) -> None:
    config = _config(root)
    config.parent.mkdir(parents=True)
    config.write_text(
        '# my gateway\nregion = "EU868"\nnet_id = "000013"\n\n'
        '[[backends]]\nkind = "virtual"\nregion = "EU868"\n'
    )
    first = setup(
        root, "--non-interactive", "--region", "EU868", "--board", "corecell",
        "--gateway-id", "0102030405060708",
    )  # fmt: skip
    assert first.returncode == 0, first.stderr
    second = setup(root, "--non-interactive", "--region", "AU915", "--board", "corecell-usb")
    assert second.returncode == 0, second.stderr
    text = config.read_text()
    assert text.startswith("# my gateway\n")
    loaded = load_config(config, {})
    assert (loaded.region, loaded.net_id) == ("AU915", "000013")
    assert loaded.backends == ({"kind": "virtual", "region": "EU868"},)
    assert _drop_in(root) == ["[Service]", "DeviceAllow=char-ttyACM rw"]
    # No MAC is read below another root, so the ID from the first run is kept.
    assert _gateway(root)["gateway_id"] == "0102030405060708"


def test_a_board_whose_chip_has_a_driver_gets_its_backend(root: Path, setup: Setup) -> None:
    write_profile(
        root / PROFILES,
        "rak5146",
        'title = "RAKwireless RAK5146 (SPI)"\nchip = "sx1303"\n' + SPI_PROFILE,
    )
    result = setup(root, "--non-interactive", "--region", "EU868", "--board", "rak5146")
    assert result.returncode == 0, result.stderr
    backends = load_config(_config(root), {}).backends
    if "sx1302" in backend_kinds():
        # No gateway_id: the driver reads the concentrator's EUI.
        assert backends == (
            {"kind": "sx1302", "profile": f"/{PROFILES}/rak5146.toml", "region": "EU868"},
        )
        assert "backend 'sx1302'" in result.stdout
    else:
        assert backends == ()
        assert "note: no driver for the board's chip (sx1303)" in result.stdout
    # Back to no concentrator: the board's backend goes, the region stays.
    none = setup(root, "--non-interactive", "--region", "EU868", "--board", "none")
    assert none.returncode == 0, none.stderr
    assert load_config(_config(root), {}).backends == ()


def test_no_board_means_no_devices(root: Path, setup: Setup) -> None:
    result = setup(root, "--non-interactive", "--region", "EU868", "--board", "none")
    assert result.returncode == 0, result.stderr
    assert _drop_in(root) == ["[Service]"]
    assert _gateway(root) == {"board": "none"}


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--region", "EU868"], "--non-interactive needs --region and --board"),
        (["--region", "EU999", "--board", "none"], "EU999"),
        (["--region", "EU868", "--board", "rak2245"], "unknown board 'rak2245'"),
        (["--region", "EU868", "--board", "../x"], "is not valid"),
        (["--gateway-id", "xyz"], "--gateway-id"),
    ],
)
def test_bad_choices_are_refused_and_nothing_is_written(
    root: Path, args: list[str], fragment: str, setup: Setup
) -> None:
    assert_usage_error(setup(root, "--non-interactive", *args), fragment)
    assert not (root / "etc").exists()


def test_a_broken_existing_config_is_not_overwritten(root: Path, setup: Setup) -> None:
    config = _config(root)
    config.parent.mkdir(parents=True)
    config.write_text('region = "EU868"\ncolour = "blue"\n')
    result = setup(root, "--non-interactive", "--region", "US915", "--board", "none")
    assert_usage_error(result, "unknown key 'colour'")
    assert str(config) in result.stderr
    assert config.read_text() == 'region = "EU868"\ncolour = "blue"\n'
    assert not (root / "etc/lorawan-appliance/gateway.toml").exists()


def test_root_must_be_a_directory(tmp_path: Path, setup: Setup) -> None:
    assert_usage_error(setup(tmp_path / "nowhere", "--non-interactive"), "not a directory")


def test_interactive_questions_take_numbers_or_names(root: Path) -> None:
    # The real command reading a pipe. Region by number (2 = US915 in the list), a wrong
    # answer, then the board by name in another case.
    result = _answer(root, "2\nrak2245\nCoreCell-USB\n", "--gateway-id", "0102030405060708")
    assert result.returncode == 0, result.stderr
    assert "Gateway ID: 0102030405060708 (given to appliance setup)" in result.stdout
    assert " 2) US915" in result.stdout
    assert "not one of the choices: 'rak2245'" in result.stdout
    assert "none" in result.stdout  # the no-concentrator choice is always offered
    assert load_config(_config(root), {}).region == "US915"
    assert _gateway(root)["board"] == "corecell-usb"


def test_interactive_defaults_are_the_current_choice(root: Path, setup: Setup) -> None:
    done = setup(root, "--non-interactive", "--region", "AS923-2", "--board", "corecell")
    assert done.returncode == 0, done.stderr
    result = setup(root, answers="\n\n")
    assert result.returncode == 0, result.stderr
    assert "[AS923-2]" in result.stdout
    assert "[corecell]" in result.stdout
    assert load_config(_config(root), {}).region == "AS923-2"


def test_end_of_input_cancels_without_writing(root: Path, setup: Setup) -> None:
    result = setup(root, answers="1\n")
    assert_usage_error(result, "setup cancelled")
    assert not _config(root).exists()


def test_first_boot_does_nothing_once_configured(root: Path, setup: Setup) -> None:
    done = setup(root, "--non-interactive", "--region", "EU868", "--board", "none")
    assert done.returncode == 0, done.stderr
    before = _config(root).read_text()
    result = setup(root, "--first-boot", answers="")
    assert result.returncode == 0, result.stderr
    assert "set up already" in result.stdout
    assert _config(root).read_text() == before


_SSH_UNIT = """\
[Unit]
Description=OpenBSD Secure Shell server
[Service]
ExecStart=/usr/sbin/sshd -D
[Install]
WantedBy=multi-user.target
"""


@needs_systemd_tools
def test_first_boot_asks_about_ssh_and_enables_it(root: Path, setup: Setup) -> None:
    unit = root / "usr/lib/systemd/system/ssh.service"
    unit.parent.mkdir(parents=True)
    unit.write_text(_SSH_UNIT)
    result = setup(root, "--first-boot", answers="EU868\nnone\ny\n")
    assert result.returncode == 0, result.stderr
    assert "Allow SSH logins to this Pi? [y/N]" in result.stdout
    assert "SSH logins enabled" in result.stdout
    assert (root / "etc/systemd/system/multi-user.target.wants/ssh.service").is_symlink()

    # Asked again later, the default is the current state; --ssh decides without asking.
    disabled = setup(root, "--non-interactive", "--region", "EU868", "--board", "none",
                      "--ssh", "disable")  # fmt: skip
    assert disabled.returncode == 0, disabled.stderr
    assert not (root / "etc/systemd/system/multi-user.target.wants/ssh.service").exists()


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("", "# The appliance"),
        ('region = "EU868"\n', 'region = "US915"\n'),
        ('  region="EU868"  \nnet_id = "000001"\n', 'region = "US915"\nnet_id = "000001"\n'),
        ('net_id = "000001"\n', 'net_id = "000001"\nregion = "US915"\n'),
        # Only the top-level key: a backend's own region is left alone.
        (
            '[[backends]]\nkind = "virtual"\nregion = "EU868"\n',
            'region = "US915"\n[[backends]]\nkind = "virtual"\nregion = "EU868"\n',
        ),
    ],
)
def test_set_region(before: str, after: str) -> None:
    result = set_region(before, "US915")
    assert result.startswith(after) if before == "" else result == after
    assert tomllib.loads(result)["region"] == "US915"


_WITH_BACKENDS = """\
region = "EU868"

# the site's other gateway
[[backends]]
kind = "concentratord"
event_url = "ipc:///tmp/concentratord_event"

[[backends]]
kind = "sx1302"
profile = "/old.toml"
region = "EU868"
"""


def test_set_backend_replaces_only_tables_of_its_kind() -> None:
    replaced = set_backend(_WITH_BACKENDS, "sx1302", {"profile": "/new.toml", "region": "US915"})
    document = tomllib.loads(replaced)
    assert document["backends"] == [
        {"kind": "concentratord", "event_url": "ipc:///tmp/concentratord_event"},
        {"kind": "sx1302", "profile": "/new.toml", "region": "US915"},
    ]
    assert "# the site's other gateway" in replaced
    removed = tomllib.loads(set_backend(_WITH_BACKENDS, "sx1302", None))
    assert removed["backends"] == [document["backends"][0]]
    assert set_backend(replaced, "sx1302", {"profile": "/new.toml", "region": "US915"}) == replaced
    added = tomllib.loads(set_backend('region = "EU868"\n', "sx1302", {"profile": "/p.toml"}))
    assert added == {"region": "EU868", "backends": [{"kind": "sx1302", "profile": "/p.toml"}]}
