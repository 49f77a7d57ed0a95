"""The image build as far as CI can take it: pi-gen's configuration and stage are valid, the
scripts pass shellcheck, and a smoke build of the appliance's part of the root file system into
a directory (no chroot, no loop device) holds the units, the user and the configuration.

The full image needs root, arm64 emulation and loop devices: ``make image`` on a capable host.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli_helpers import ROOT
from tests.deployment.conftest import needs_systemd_tools, os_root, run

IMAGE = ROOT / "image"
STAGE = IMAGE / "stage-lorawan"
SHELLCHECK = Path(sys.executable).parent / "shellcheck"
SCRIPTS = [
    ROOT / "scripts/install.sh",
    ROOT / "scripts/uninstall.sh",
    ROOT / "scripts/ensure-test-tools.sh",
    ROOT / "scripts/readonly-root.sh",
    IMAGE / "build.sh",
    IMAGE / "install-into-rootfs.sh",
    IMAGE / "initramfs/firstboot",
    IMAGE / "initramfs/hook",
    STAGE / "prerun.sh",
    *sorted(STAGE.glob("*/*-run.sh")),
]
# What pi-gen's build.sh runs from a sub-stage directory, by name (its run_sub_stage).
_SUB_STAGE_FILE = re.compile(r"\d\d-(debconf|packages|packages-nr|run\.sh|run-chroot\.sh)")
_DEBIAN_PACKAGE = re.compile(r"[a-z0-9][a-z0-9+.-]+")


def _sourced(path: Path, *names: str, env: dict[str, str] | None = None) -> dict[str, str]:
    """The variables a bash fragment sets, as pi-gen sees them after sourcing it."""
    script = f'set -eu; source "{path}"; ' + "; ".join(
        f'printf "%s=%s\\n" {name} "${{{name}-<unset>}}"' for name in names
    )
    result = subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, check=False, env=env or {}
    )
    assert result.returncode == 0, result.stderr
    return dict(line.split("=", 1) for line in result.stdout.splitlines())


def test_pi_gen_config_builds_raspberry_pi_os_lite_plus_the_appliance() -> None:
    values = _sourced(
        IMAGE / "config", "IMG_NAME", "RELEASE", "STAGE_LIST", "ENABLE_SSH", "LORAWAN_CONSOLE",
        "LORAWAN_READONLY_ROOT", "LORAWAN_ROOT_SIZE_MIB",
    )  # fmt: skip
    assert values["IMG_NAME"] == "lorawan-appliance"
    assert values["RELEASE"] == "bookworm"
    # Stages 0-2 are Raspberry Pi OS Lite; ours comes last; nothing of the desktop.
    assert values["STAGE_LIST"].split() == ["stage0", "stage1", "stage2", STAGE.name]
    assert values["ENABLE_SSH"] == "0"  # SSH is the user's choice at first boot
    assert values["LORAWAN_CONSOLE"] in ("0", "1")
    assert values["LORAWAN_READONLY_ROOT"] == "0"  # opt-in
    assert int(values["LORAWAN_ROOT_SIZE_MIB"]) >= 2048
    for name in ("LORAWAN_CONSOLE", "LORAWAN_READONLY_ROOT", "LORAWAN_ROOT_SIZE_MIB"):
        exported = subprocess.run(
            ["bash", "-c", f'source "{IMAGE / "config"}"; bash -c "echo ${name}"'],
            capture_output=True,
            text=True,
            check=True,
            env={},
        )
        assert exported.stdout.strip() == values[name], f"stage scripts need {name} exported"


def test_the_stage_has_the_shape_pi_gen_runs() -> None:
    assert os.access(STAGE / "prerun.sh", os.X_OK)
    # pi-gen sources EXPORT_IMAGE with its own variables set; USE_QEMU is one of them.
    for use_qemu, suffix in (("0", ""), ("1", "-qemu")):
        exported = _sourced(STAGE / "EXPORT_IMAGE", "IMG_SUFFIX", env={"USE_QEMU": use_qemu})
        assert exported["IMG_SUFFIX"] == suffix
    sub_stages = sorted(path for path in STAGE.iterdir() if path.is_dir())
    assert sub_stages, "a stage without sub-stages installs nothing"
    for sub_stage in sub_stages:
        assert re.fullmatch(r"\d\d-[a-z0-9-]+", sub_stage.name), sub_stage.name
        for path in sub_stage.iterdir():
            assert _SUB_STAGE_FILE.fullmatch(path.name), f"pi-gen ignores {path}"
            if path.name.endswith("-run.sh"):
                # pi-gen runs these only when executable, as bash -e scripts.
                assert os.access(path, os.X_OK), path
                assert path.read_text().startswith("#!/bin/bash -e\n"), path
            if "packages" in path.name:
                words = " ".join(
                    line.split("#")[0] for line in path.read_text().splitlines()
                ).split()
                assert words, path
                assert all(_DEBIAN_PACKAGE.fullmatch(word) for word in words), words


def test_the_stage_and_build_script_agree_on_where_the_source_is() -> None:
    run_script = (STAGE / "00-appliance/01-run.sh").read_text()
    assert "${BASE_DIR}/lorawan-appliance-src/image/install-into-rootfs.sh" in run_script
    build = (IMAGE / "build.sh").read_text()
    assert '"$pigen/lorawan-appliance-src"' in build
    assert 'cp -a "$HERE/stage-lorawan" "$pigen/stage-lorawan"' in build
    assert os.access(IMAGE / "install-into-rootfs.sh", os.X_OK)
    assert os.access(IMAGE / "build.sh", os.X_OK)


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: str(path.relative_to(ROOT)))
def test_scripts_pass_shellcheck(script: Path) -> None:
    assert os.access(script, os.X_OK), f"{script} must be executable"
    result = run(SHELLCHECK, "--severity=style", script)
    assert result.returncode == 0, result.stdout


@pytest.mark.parametrize("fragment", [IMAGE / "config", STAGE / "EXPORT_IMAGE"])
def test_sourced_fragments_pass_shellcheck(fragment: Path) -> None:
    result = run(SHELLCHECK, "--shell=bash", fragment)
    assert result.returncode == 0, result.stdout


_SWAP_UNIT = """\
[Unit]
Description=dphys-swapfile - set up, mount/unmount, and delete a swap file
[Service]
Type=oneshot
ExecStart=/sbin/dphys-swapfile setup
[Install]
WantedBy=multi-user.target
"""


# What raspberrypi-sys-mods installs for the first boot's resize (what LORAWAN_READONLY_ROOT
# replaces), as far as install-into-rootfs.sh checks it.
SYS_MODS_RESIZE = "usr/share/initramfs-tools/scripts/local-premount/firstboot"


def _smoke_build(
    tmp_path: Path, *, expect: int = 0, sys_mods: str = "parted resizepart", **env: str
) -> Path:
    rootfs = os_root(tmp_path / "rootfs")
    swap = rootfs / "usr/lib/systemd/system/dphys-swapfile.service"
    swap.write_text(_SWAP_UNIT)
    enabled = run("systemctl", f"--root={rootfs}", "enable", "dphys-swapfile.service")
    assert enabled.returncode == 0, enabled.stderr
    (rootfs / SYS_MODS_RESIZE).parent.mkdir(parents=True)
    (rootfs / SYS_MODS_RESIZE).write_text(sys_mods)
    result = subprocess.run(
        [str(IMAGE / "install-into-rootfs.sh"), "--smoke", str(rootfs)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, **env},
    )
    assert result.returncode == expect, result.stdout + result.stderr
    if expect:
        rootfs.joinpath("stderr").write_text(result.stderr)
    return rootfs


@pytest.mark.slow
@needs_systemd_tools
def test_smoke_build_holds_units_user_and_configuration(tmp_path: Path) -> None:
    rootfs = _smoke_build(tmp_path)
    units = rootfs / "etc/systemd/system"
    wants = units / "multi-user.target.wants"
    for unit in ("lorawan-appliance.service", "lorawan-appliance-firstboot.service"):
        assert (units / unit).read_bytes() == (ROOT / "systemd" / unit).read_bytes()
        assert (units / unit).stat().st_mode & 0o777 == 0o644
        assert (wants / unit).is_symlink(), unit
    assert not (wants / "lorawan-appliance-console.service").exists()
    passwd = (rootfs / "etc/passwd").read_text()
    assert re.search(r"^lorawan-appliance:x:\d+:\d+:", passwd, re.MULTILINE)
    # Configuration of the image: the volatile journal, the udev rules, and no region yet, so
    # the first-boot wizard asks for it.
    journald = rootfs / "etc/systemd/journald.conf.d/60-lorawan-appliance.conf"
    assert "Storage=volatile" in journald.read_text()
    assert (rootfs / "etc/udev/rules.d/60-lorawan-concentrator.rules").is_file()
    assert not (rootfs / "etc/lorawan-appliance/appliance.toml").exists()
    # SD-card care: Raspberry Pi OS's swap file is off.
    assert not (wants / "dphys-swapfile.service").exists()
    # The read-only root is opt-in: its tool ships, its first-boot step is off.
    assert os.access(rootfs / "opt/lorawan-appliance/readonly-root.sh", os.X_OK)
    assert not (wants / "lorawan-appliance-readonly-root.service").exists()
    assert not (rootfs / "etc/initramfs-tools").exists()


@pytest.mark.slow
@needs_systemd_tools
def test_smoke_build_with_the_console_on_tty1(tmp_path: Path) -> None:
    rootfs = _smoke_build(tmp_path, LORAWAN_CONSOLE="1", LORAWAN_SWAP_FILE="1")
    wants = rootfs / "etc/systemd/system/multi-user.target.wants"
    assert (wants / "lorawan-appliance-console.service").is_symlink()
    assert not (rootfs / "etc/systemd/system/getty.target.wants/getty@tty1.service").exists()
    assert (wants / "dphys-swapfile.service").is_symlink()


@pytest.mark.slow
@needs_systemd_tools
def test_smoke_build_with_the_read_only_root(tmp_path: Path) -> None:
    rootfs = _smoke_build(tmp_path, LORAWAN_READONLY_ROOT="1", LORAWAN_ROOT_SIZE_MIB="4096")
    # The first boot's resize, in place of raspberrypi-sys-mods' (same name, /etc wins), with
    # the configured root size written in.
    resize = rootfs / "etc/initramfs-tools/scripts/local-premount/firstboot"
    assert resize.stat().st_mode & 0o777 == 0o755
    expected = (IMAGE / "initramfs/firstboot").read_text()
    assert resize.read_text() == expected.replace(
        "LORAWAN_ROOT_SIZE_MIB=6144", "LORAWAN_ROOT_SIZE_MIB=4096"
    )
    hook = rootfs / "etc/initramfs-tools/hooks/lorawan-appliance-data"
    assert hook.read_bytes() == (IMAGE / "initramfs/hook").read_bytes()
    assert hook.stat().st_mode & 0o777 == 0o755
    # The next boot mounts the data partition and turns the overlay on.
    wants = rootfs / "etc/systemd/system/multi-user.target.wants"
    assert (wants / "lorawan-appliance-readonly-root.service").is_symlink()
    assert os.access(rootfs / "opt/lorawan-appliance/readonly-root.sh", os.X_OK)
    # Not yet on in the image itself: the first boots write SSH keys, the user, the region.
    fstab = rootfs / "etc/fstab"
    assert not fstab.exists() or "lorawan" not in fstab.read_text()


@pytest.mark.slow
@needs_systemd_tools
@pytest.mark.parametrize(
    ("env", "sys_mods", "fragment"),
    [
        ({"LORAWAN_READONLY_ROOT": "1"}, "resize2fs only", "is missing or has changed"),
        ({"LORAWAN_READONLY_ROOT": "yes"}, "parted resizepart", "must be 0 or 1"),
        (
            {"LORAWAN_READONLY_ROOT": "1", "LORAWAN_ROOT_SIZE_MIB": "1000"},
            "parted resizepart",
            "at least 2048",
        ),
    ],
)
def test_the_read_only_root_option_stops_a_build_it_cannot_make(
    tmp_path: Path, env: dict[str, str], sys_mods: str, fragment: str
) -> None:
    rootfs = _smoke_build(tmp_path, expect=2, sys_mods=sys_mods, **env)
    assert fragment in (rootfs / "stderr").read_text()
    assert not (rootfs / "etc/systemd/system/lorawan-appliance.service").exists(), "checked first"
