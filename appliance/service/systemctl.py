"""The few service-manager actions setup needs, through the real ``systemctl``.

On the running system (root ``/`` with systemd as init) changes apply at once. Below another
root (an image being built, a test directory) ``systemctl --root`` edits the unit symlinks
offline, which is all enabling or disabling means there.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from appliance.service.paths import FIRSTBOOT_SERVICE, SERVICE


class SystemctlError(Exception):
    """systemctl is missing or refused; the message carries its own words."""


def systemd_is_running(root: Path) -> bool:
    return root == Path("/") and Path("/run/systemd/system").is_dir()


def set_ssh(root: Path, *, enabled: bool) -> str:
    verb = "enable" if enabled else "disable"
    if systemd_is_running(root):
        _systemctl(verb, "--now", "ssh.service")
    else:
        _systemctl(f"--root={root}", verb, "ssh.service")
    return f"SSH logins {'enabled' if enabled else 'disabled'}"


def ssh_enabled(root: Path) -> bool:
    args = () if systemd_is_running(root) else (f"--root={root}",)
    result = _run(*args, "is-enabled", "ssh.service")
    return result.returncode == 0


def reload_units() -> None:
    _systemctl("daemon-reload")


def reload_and_restart_service() -> str:
    """After a change on the running system: load the new drop-in, restart if enabled."""
    reload_units()
    # A wizard still waiting on tty1 (set up over SSH instead) holds the service's start job,
    # which is ordered after it; the question is answered now.
    _run("stop", FIRSTBOOT_SERVICE)
    if _run("is-enabled", "--quiet", SERVICE).returncode != 0:
        return f"{SERVICE} is not enabled; start it with: sudo systemctl enable --now {SERVICE}"
    _systemctl("restart", "--no-block", SERVICE)
    return f"{SERVICE} restarting with the new settings"


def _systemctl(*args: str) -> None:
    result = _run(*args)
    if result.returncode != 0:
        detail = (result.stderr.strip().splitlines() or ["no message"])[-1]
        raise SystemctlError(f"systemctl {' '.join(args)} failed: {detail}")


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    systemctl = shutil.which("systemctl")
    if systemctl is None:
        raise SystemctlError("systemctl not found: is this a systemd system?")
    return subprocess.run(
        [systemctl, *args], capture_output=True, text=True, timeout=120, check=False
    )
