"""scripts/readonly-root.sh with --root on a temporary system, and the image's first-boot resize.

The data devices are real ext4 file systems made by mkfs.ext4 in plain files, read back with
blkid -p, dumpe2fs and debugfs; the first-boot resize edits a real partition table with parted
in a plain file. No loop device, no mount, no root privileges needed (``make test`` installs the
tools with scripts/ensure-test-tools.sh).
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from tests.cli_helpers import ROOT
from tests.deployment.conftest import run

pytestmark = pytest.mark.slow

SCRIPT = ROOT / "scripts/readonly-root.sh"
FIRSTBOOT = ROOT / "image/initramfs/firstboot"
STATE = "var/lib/lorawan-appliance"
CMDLINE = "console=serial0,115200 console=tty1 root=PARTUUID=4e639091-02 rootfstype=ext4 rootwait"
FSTAB = (
    "proc            /proc           proc    defaults          0       0\n"
    "PARTUUID=4e639091-01  /boot/firmware  vfat    defaults          0       2\n"
    "PARTUUID=4e639091-02  /               ext4    defaults,noatime  0       1\n"
)
OPTIONS = "defaults,noatime,nofail,commit=60,x-systemd.device-timeout=30s"


def _tool(name: str) -> str:
    for found in (shutil.which(name), f"/usr/sbin/{name}", f"/sbin/{name}"):
        if found and os.access(found, os.X_OK):
            return found
    raise AssertionError(f"{name} is missing: run scripts/ensure-test-tools.sh")


def _system(tmp_path: Path, *, state: bytes | None = b"SQLite format 3\0 sessions") -> Path:
    """A Raspberry Pi OS root as far as the script cares: fstab, cmdline.txt, the state."""
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc/fstab").write_text(FSTAB)
    (root / "boot/firmware").mkdir(parents=True)
    (root / "boot/firmware/cmdline.txt").write_text(CMDLINE + "\n")
    if state is not None:
        (root / STATE).mkdir(parents=True, mode=0o700)
        (root / STATE / "appliance.db").write_bytes(state)
    return root


def _ext4(path: Path, *, size: str = "32M") -> Path:
    created = run("truncate", "-s", size, path)
    assert created.returncode == 0, created.stderr
    made = run(_tool("mkfs.ext4"), "-F", "-q", path)
    assert made.returncode == 0, made.stderr
    return path


def _blank(path: Path) -> Path:
    assert run("truncate", "-s", "32M", path).returncode == 0
    return path


def _probe(device: Path, field: str) -> str:
    return run(_tool("blkid"), "-p", "-o", "value", "-s", field, device).stdout.strip()


def _debugfs(device: Path, request: str) -> str:
    result = run(_tool("debugfs"), "-R", request, device)
    assert result.returncode == 0, result.stderr
    return result.stdout


def _readonly_root(root: Path, *args: str | Path) -> tuple[int, str, str]:
    result = run(SCRIPT, *args, "--root", root)
    return result.returncode, result.stdout, result.stderr


def _data_lines(root: Path) -> list[str]:
    return [
        line
        for line in (root / "etc/fstab").read_text().splitlines()
        if not line.startswith("#") and f" /{STATE} " in f" {line} "
    ]


def test_enable_with_format_moves_the_state_and_turns_the_overlay_on(tmp_path: Path) -> None:
    root = _system(tmp_path)
    device = _blank(tmp_path / "data.img")
    code, out, err = _readonly_root(root, "enable", "--data-device", device, "--format")
    assert code == 0, out + err

    # A real ext4 file system, found by its own signature, named in fstab by its UUID.
    uuid = _probe(device, "UUID")
    assert _probe(device, "TYPE") == "ext4"
    assert _probe(device, "LABEL") == "lorawan-data"
    dumped = run(_tool("dumpe2fs"), "-h", device)
    assert f"Filesystem UUID:          {uuid}" in dumped.stdout
    assert _data_lines(root) == [f"UUID={uuid}  /{STATE}  ext4  {OPTIONS}  0  2"]
    assert (root / "etc/fstab").read_text().startswith(FSTAB), "the other lines stay"

    # The state went over, and the copy it was made from stays beside the empty mount point.
    assert _debugfs(device, "cat /appliance.db").encode() == b"SQLite format 3\0 sessions"
    assert re.search(r"Mode:\s+0?700\b", _debugfs(device, "stat /")), "the state directory's mode"
    backup = root / f"{STATE}.pre-data-device"
    assert (backup / "appliance.db").read_bytes() == b"SQLite format 3\0 sessions"
    assert list((root / STATE).iterdir()) == []
    assert (root / STATE).stat().st_mode & 0o777 == 0o700

    # The overlay with recurse=0, so the data file system is not put under RAM as well.
    cmdline = (root / "boot/firmware/cmdline.txt").read_text()
    assert cmdline == f"overlayroot=tmpfs:recurse=0 {CMDLINE}\n"
    drop_in = root / "etc/systemd/system/lorawan-appliance.service.d/60-state-mount.conf"
    assert f"RequiresMountsFor=/{STATE}" in drop_in.read_text()
    assert "overlayroot is not installed" in out  # --root installs nothing


def test_an_empty_ext4_file_system_is_used_as_it_is(tmp_path: Path) -> None:
    root = _system(tmp_path, state=None)
    device = _ext4(tmp_path / "usb.img")
    uuid = _probe(device, "UUID")
    code, out, err = _readonly_root(root, "enable", "--data-device", device)
    assert code == 0, out + err
    assert _probe(device, "UUID") == uuid, "not formatted without --format"
    assert _data_lines(root) == [f"UUID={uuid}  /{STATE}  ext4  {OPTIONS}  0  2"]
    assert (root / STATE).is_dir()


def test_enabling_again_replaces_the_line_and_raspi_configs_overlay(tmp_path: Path) -> None:
    root = _system(tmp_path)
    # raspi-config's own setting: recurse=1 would put the data file system in RAM too.
    (root / "boot/firmware/cmdline.txt").write_text(f"overlayroot=tmpfs {CMDLINE}\n")
    status = run(SCRIPT, "status", "--root", root)
    assert "WITHOUT recurse=0" in status.stdout
    first = _blank(tmp_path / "first.img")
    second = _blank(tmp_path / "second.img")
    assert _readonly_root(root, "enable", "--data-device", first, "--format")[0] == 0
    assert _readonly_root(root, "enable", "--data-device", second, "--format")[0] == 0
    assert _data_lines(root) == [f"UUID={_probe(second, 'UUID')}  /{STATE}  ext4  {OPTIONS}  0  2"]
    fstab = (root / "etc/fstab").read_text()
    assert fstab.count("# lorawan-appliance:") == 1
    cmdline = (root / "boot/firmware/cmdline.txt").read_text()
    assert cmdline == f"overlayroot=tmpfs:recurse=0 {CMDLINE}\n"
    # The same device again: nothing to format or copy.
    code, out, _ = _readonly_root(root, "enable", "--data-device", second)
    assert code == 0
    assert "already holds the state" in out


def test_disable_turns_the_overlay_off_and_keeps_the_state_where_it_is(tmp_path: Path) -> None:
    root = _system(tmp_path)
    device = _blank(tmp_path / "data.img")
    assert _readonly_root(root, "enable", "--data-device", device, "--format")[0] == 0
    status = run(SCRIPT, "status", "--root", root).stdout
    assert "overlay: on in /boot/firmware/cmdline.txt (overlayroot=tmpfs:recurse=0)" in status
    assert f"state: UUID={_probe(device, 'UUID')} on /{STATE}" in status

    code, out, err = _readonly_root(root, "disable")
    assert code == 0, out + err
    assert (root / "boot/firmware/cmdline.txt").read_text() == CMDLINE + "\n"
    assert len(_data_lines(root)) == 1
    assert "overlay: off" in run(SCRIPT, "status", "--root", root).stdout
    # Back on without naming the device again: the one in fstab.
    code, out, err = _readonly_root(root, "enable")
    assert code == 0, out + err
    cmdline = (root / "boot/firmware/cmdline.txt").read_text()
    assert cmdline == f"overlayroot=tmpfs:recurse=0 {CMDLINE}\n"


def _refusal(tmp_path: Path, case: str) -> tuple[Path, list[str | Path]]:
    root = _system(tmp_path)
    if case == "missing device":
        return root, ["enable", "--data-device", tmp_path / "nothing"]
    if case == "unformatted without --format":
        return root, ["enable", "--data-device", _blank(tmp_path / "blank.img")]
    if case in ("the root's own partition", "the boot partition"):
        device = _ext4(tmp_path / "disk.img")
        mount_point = "/" if case == "the root's own partition" else "/boot/firmware"
        spec = f"UUID={_probe(device, 'UUID')} {mount_point} ext4 defaults 0 1\n"
        (root / "etc/fstab").write_text(spec)
        return root, ["enable", "--data-device", device]
    if case == "a file system holding files":
        device = _ext4(tmp_path / "used.img")
        request = f"write {root / STATE / 'appliance.db'} other.db"
        assert run(_tool("debugfs"), "-w", "-R", request, device).returncode == 0
        return root, ["enable", "--data-device", device]
    if case == "state onto an existing file system, offline":
        return root, ["enable", "--data-device", _ext4(tmp_path / "empty.img")]
    if case == "no data device at all":
        return root, ["enable"]
    if case == "--format without a device":
        return root, ["enable", "--format"]
    raise AssertionError(case)


@pytest.mark.parametrize(
    ("case", "fragment"),
    [
        ("missing device", "does not exist"),
        ("unformatted without --format", "has no ext4 file system (found: none); --format"),
        ("the root's own partition", "is the root file system's own device"),
        ("the boot partition", "is the boot partition"),
        ("a file system holding files", "already holds files"),
        ("state onto an existing file system, offline", "needs it mounted"),
        ("no data device at all", "must not live in RAM"),
        ("--format without a device", "--format needs --data-device"),
    ],
)
def test_unsafe_requests_are_refused_in_one_line_and_change_nothing(
    tmp_path: Path, case: str, fragment: str
) -> None:
    root, args = _refusal(tmp_path, case)
    fstab = (root / "etc/fstab").read_text()
    code, out, err = _readonly_root(root, *args)
    assert code == 2, out + err
    assert err.count("\n") == 1 and err.startswith("readonly-root.sh: error: "), err
    assert fragment in err
    assert (root / "etc/fstab").read_text() == fstab
    assert (root / "boot/firmware/cmdline.txt").read_text() == CMDLINE + "\n"
    assert (root / STATE / "appliance.db").is_file()
    assert not (root / f"{STATE}.pre-data-device").exists()


def test_a_system_without_cmdline_txt_is_refused(tmp_path: Path) -> None:
    root = _system(tmp_path)
    (root / "boot/firmware/cmdline.txt").unlink()
    code, _, err = _readonly_root(root, "disable")
    assert code == 2
    assert "no cmdline.txt" in err


# --- the image's first-boot resize (image/initramfs/firstboot) ---------------------------------

SECTOR = 512
ROOT_START = 1064960  # pi-gen: 8 MiB alignment, then a 512 MiB boot partition
ROOT_SECTORS = 4194304  # a 2 GiB root as exported


def _initramfs(tmp_path: Path, card_gib: int, *, first_boot: bool = True) -> Path:
    """A stand-in for the initramfs: /proc/cmdline, /sys/block, the disk as a plain file with
    pi-gen's partition table, initramfs-tools' functions and the tools it must not run here."""
    t = tmp_path / "initramfs"
    for folder in ("proc", "scripts", "dev", "bin", "sys/block/mmcblk0/mmcblk0p2"):
        (t / folder).mkdir(parents=True)
    init = " init=/usr/lib/raspberrypi-sys-mods/firstboot" if first_boot else ""
    (t / "proc/cmdline").write_text(f"{CMDLINE}{init}\n")
    (t / "scripts/functions").write_text(
        "log_begin_msg() { :; }\nlog_end_msg() { :; }\nwait_for_udev() { :; }\n"
        'log_warning_msg() { echo "warning: $*"; }\nlog_failure_msg() { echo "failure: $*"; }\n'
    )
    (t / "scripts/local").write_text(f'local_device_setup() {{ DEV="{t}/dev/mmcblk0p2"; }}\n')
    stubs = {
        "lsblk": 'case "$*" in *pkname*) echo mmcblk0 ;; *kname*) echo mmcblk0p2 ;; esac',
        "udevadm": "exit 0",
        "resize2fs": f'echo "resize2fs $*" >>"{t}/ran"',
        "mke2fs": f'echo "mke2fs $*" >>"{t}/ran"',
    }
    for name, body in stubs.items():
        (t / "bin" / name).write_text(f"#!/bin/sh\n{body}\n")
        (t / "bin" / name).chmod(0o755)
    disk = t / "dev/mmcblk0"
    assert run("truncate", "-s", f"{card_gib}G", disk).returncode == 0
    end = ROOT_START + ROOT_SECTORS - 1
    made = run(
        _tool("parted"), "-s", disk, "mklabel", "msdos", "unit", "s",
        "mkpart", "primary", "fat32", "16384", "1064959",
        "mkpart", "primary", "ext4", str(ROOT_START), str(end),
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    sys_block = t / "sys/block/mmcblk0"
    (sys_block / "size").write_text(f"{card_gib * 1024**3 // SECTOR}\n")
    (sys_block / "mmcblk0p2/partition").write_text("2\n")
    (sys_block / "mmcblk0p2/start").write_text(f"{ROOT_START}\n")
    (sys_block / "mmcblk0p2/size").write_text(f"{ROOT_SECTORS}\n")
    return t


def _first_boot(t: Path) -> tuple[list[tuple[int, int]], list[str]]:
    result = run(
        "env", f"LORAWAN_INITRAMFS_TEST={t}", f"PATH={t / 'bin'}:{os.environ['PATH']}:/usr/sbin",
        "sh", FIRSTBOOT,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "failure" not in result.stdout, result.stdout
    table = run(_tool("parted"), "-s", "-m", t / "dev/mmcblk0", "unit", "s", "print")
    partitions = [
        (int(fields[1].rstrip("s")), int(fields[2].rstrip("s")))
        for fields in (line.split(":") for line in table.stdout.splitlines()[2:])
    ]
    ran = (t / "ran").read_text().splitlines() if (t / "ran").exists() else []
    return partitions, ran


def test_first_boot_keeps_the_root_at_its_size_and_makes_a_data_partition(tmp_path: Path) -> None:
    t = _initramfs(tmp_path, card_gib=16)
    partitions, ran = _first_boot(t)
    root_end = ROOT_START + 6144 * 2048 - 1  # LORAWAN_ROOT_SIZE_MIB's default
    last = 16 * 1024**3 // SECTOR - 1
    assert partitions == [(16384, 1064959), (ROOT_START, root_end), (root_end + 1, last)]
    assert (root_end + 1) % 16384 == 0, "8 MiB aligned, as pi-gen aligns"
    assert ran == [
        f"resize2fs -f -p {t}/dev/mmcblk0p2",
        f"mke2fs -F -q -t ext4 -L lorawan-data -m 1 {t}/dev/mmcblk0p3",
    ]


def test_a_card_too_small_for_a_data_partition_gets_the_root_only(tmp_path: Path) -> None:
    t = _initramfs(tmp_path, card_gib=7)  # 6 GiB root leaves less than 1 GiB
    partitions, ran = _first_boot(t)
    assert partitions == [(16384, 1064959), (ROOT_START, 7 * 1024**3 // SECTOR - 1)]
    assert ran == [f"resize2fs -f -p {t}/dev/mmcblk0p2"]


def test_later_boots_leave_the_partitions_alone(tmp_path: Path) -> None:
    t = _initramfs(tmp_path, card_gib=16, first_boot=False)
    partitions, ran = _first_boot(t)
    assert partitions == [(16384, 1064959), (ROOT_START, ROOT_START + ROOT_SECTORS - 1)]
    assert ran == []
