"""Where an installed appliance keeps its files; the units, scripts and image use the same paths.

Every path is absolute on the target system. ``under(root, path)`` places one below another
root, so the installer and ``appliance setup --root DIR`` can fill an image or a test directory.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

SERVICE = "lorawan-appliance.service"
FIRSTBOOT_SERVICE = "lorawan-appliance-firstboot.service"
USER = "lorawan-appliance"
INSTALL_DIR = PurePosixPath("/opt/lorawan-appliance")
VENV_DIR = INSTALL_DIR / "venv"
PROFILES_DIR = INSTALL_DIR / "firmware_profiles"
CONFIG_DIR = PurePosixPath("/etc/lorawan-appliance")
CONFIG_FILE = CONFIG_DIR / "appliance.toml"
GATEWAY_FILE = CONFIG_DIR / "gateway.toml"
STATE_DIR = PurePosixPath("/var/lib/lorawan-appliance")
UNIT_DIR = PurePosixPath("/etc/systemd/system")
DEVICES_DROP_IN = UNIT_DIR / f"{SERVICE}.d" / "50-devices.conf"
BOOT_CONFIG_CANDIDATES = (
    PurePosixPath("/boot/firmware/config.txt"),  # Raspberry Pi OS Bookworm and later
    PurePosixPath("/boot/config.txt"),  # Bullseye and earlier
)
I2C_MODULES_FILE = PurePosixPath("/etc/modules-load.d/lorawan-appliance-i2c.conf")

# A source checkout keeps the board profiles next to the package.
CHECKOUT_PROFILES_DIR = Path(__file__).resolve().parents[2] / "firmware_profiles"


def under(root: Path, path: PurePosixPath) -> Path:
    """``path`` of the target system as seen from this one, where the target lives at ``root``."""
    return root / path.relative_to("/")


def default_profiles_dir(root: Path) -> Path:
    """The installed profiles, or a checkout's when running from one on this system."""
    installed = under(root, PROFILES_DIR)
    if installed.is_dir() or root != Path("/"):
        return installed
    return CHECKOUT_PROFILES_DIR
