#!/usr/bin/env bash
# Install the LoRaWAN appliance as a systemd service on Raspberry Pi OS (Bookworm, arm64).
#
#   sudo scripts/install.sh --region EU868 --board none
#
# Creates the service user, a virtualenv in /opt/lorawan-appliance/venv that also sees the OS's
# python3-spidev/-lgpio/-gpiozero packages, installs the units, udev rules and (when asked) the
# journald settings, writes the starter configuration through `appliance setup`, and starts the
# service. Running it again upgrades in place and keeps the configuration and the data.
# With --root DIR everything goes below DIR and nothing running is touched (images, tests).
# docs/deployment.md describes every option.
set -euo pipefail

ARGS="$*"
SOURCE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
INSTALL_DIR=/opt/lorawan-appliance
SERVICE=lorawan-appliance.service
UNITS=(lorawan-appliance.service lorawan-appliance-firstboot.service lorawan-appliance-console.service
    lorawan-appliance-readonly-root.service)
OS_PACKAGES=(python3-venv python3-pip python3-spidev python3-lgpio python3-gpiozero python3-serial)

ROOT=/
REGION=""
BOARD=""
GATEWAY_ID=""
ENABLE_SPI=0
ENABLE_I2C=0
CONSOLE=0
VOLATILE_JOURNAL=0
USE_APT=1
MAKE_VENV=1
START=1
PYTHON=/usr/bin/python3
PIP_ARGS=""
APPLIANCE=""

usage() {
    cat <<EOF
usage: $0 [options]

  --region NAME        LoRaWAN region (with --board: configure without asking)
  --board NAME         board profile name from firmware_profiles/, or 'none'
  --gateway-id EUI     gateway ID (default: from the Ethernet MAC)
  --enable-spi         turn the SPI bus on in config.txt (SPI concentrators)
  --enable-i2c         turn I2C on in config.txt (temperature sensors)
  --console            show the appliance console on tty1 instead of a login prompt
  --volatile-journal   keep the system journal in RAM only (spares the SD card)
  --root DIR           install below DIR; touch nothing running (default /)
  --no-apt             do not install the OS packages with apt
  --no-venv            do not create the virtualenv (needs --appliance for the setup step)
  --no-start           enable the units but do not (re)start anything
  --python PATH        interpreter for the virtualenv (default /usr/bin/python3)
  --pip-args "ARGS"    extra arguments for pip install (e.g. "--no-deps --no-index")
  --appliance PATH     the appliance command to run setup with (default: the virtualenv's)
  -h, --help           this text
EOF
}

die() {
    echo "install.sh: error: $*" >&2
    exit 2
}

say() {
    echo "==> $*"
}

need_value() {
    [ $# -ge 2 ] && [ -n "$2" ] || die "$1 needs a value (see --help)"
}

while [ $# -gt 0 ]; do
    case "$1" in
        --region) need_value "$@"; REGION=$2; shift 2 ;;
        --board) need_value "$@"; BOARD=$2; shift 2 ;;
        --gateway-id) need_value "$@"; GATEWAY_ID=$2; shift 2 ;;
        --enable-spi) ENABLE_SPI=1; shift ;;
        --enable-i2c) ENABLE_I2C=1; shift ;;
        --console) CONSOLE=1; shift ;;
        --volatile-journal) VOLATILE_JOURNAL=1; shift ;;
        --root) need_value "$@"; ROOT=$2; shift 2 ;;
        --no-apt) USE_APT=0; shift ;;
        --no-venv) MAKE_VENV=0; shift ;;
        --no-start) START=0; shift ;;
        --python) need_value "$@"; PYTHON=$2; shift 2 ;;
        --pip-args) need_value "$@"; PIP_ARGS=$2; shift 2 ;;
        --appliance) need_value "$@"; APPLIANCE=$2; shift 2 ;;
        -h | --help) usage; exit 0 ;;
        *) die "unknown option: $1 (see --help)" ;;
    esac
done

# --- checks: everything that can be wrong is found before anything is changed ------------------
[ -d "$ROOT" ] || die "--root $ROOT is not a directory"
ROOT="$(cd "$ROOT" && pwd)"
if [ "$ROOT" = / ]; then
    PREFIX=""
    [ "$(id -u)" -eq 0 ] || die "installing on this system needs root: sudo $0 $ARGS"
else
    PREFIX="$ROOT"
    USE_APT=0
    START=0
fi
if { [ -n "$REGION" ] && [ -z "$BOARD" ]; } || { [ -z "$REGION" ] && [ -n "$BOARD" ]; }; then
    die "--region and --board go together"
fi
for tool in systemd-sysusers systemctl install; do
    command -v "$tool" >/dev/null || die "$tool not found (is this a systemd system?)"
done
if [ "$MAKE_VENV" -eq 1 ]; then
    APPLIANCE=${APPLIANCE:-$PREFIX$INSTALL_DIR/venv/bin/appliance}
    if [ "$USE_APT" -eq 0 ]; then
        "$PYTHON" -c "import ensurepip, venv" 2>/dev/null \
            || die "$PYTHON cannot create virtualenvs (install python3-venv)"
    fi
elif [ -n "$APPLIANCE" ]; then
    [ -x "$APPLIANCE" ] || command -v "$APPLIANCE" >/dev/null || die "--appliance $APPLIANCE not found"
fi
running_systemd() {
    [ "$ROOT" = / ] && [ -d /run/systemd/system ]
}

MANIFEST="$PREFIX$INSTALL_DIR/installed-files"
installed=()

put() { # put MODE SOURCE TARGET: install one file and remember it for uninstall.sh
    install -D -m "$1" "$2" "$PREFIX$3"
    installed+=("$3")
}

# --- OS packages ---------------------------------------------------------------------------------
if [ "$USE_APT" -eq 1 ]; then
    say "installing OS packages: ${OS_PACKAGES[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${OS_PACKAGES[@]}"
fi

# --- files -------------------------------------------------------------------------------------
say "installing units, udev rules and the service user below $ROOT"
for unit in "${UNITS[@]}"; do
    put 0644 "$SOURCE/systemd/$unit" "/etc/systemd/system/$unit"
done
put 0644 "$SOURCE/systemd/sysusers.d/lorawan-appliance.conf" /etc/sysusers.d/lorawan-appliance.conf
put 0644 "$SOURCE/systemd/udev/60-lorawan-concentrator.rules" /etc/udev/rules.d/60-lorawan-concentrator.rules
put 0644 "$SOURCE/systemd/sysctl.d/60-lorawan-appliance.conf" /etc/sysctl.d/60-lorawan-appliance.conf
if [ "$VOLATILE_JOURNAL" -eq 1 ]; then
    put 0644 "$SOURCE/systemd/journald.conf.d/60-lorawan-appliance.conf" \
        /etc/systemd/journald.conf.d/60-lorawan-appliance.conf
fi
put 0644 "$SOURCE/docs/deployment.md" "$INSTALL_DIR/docs/deployment.md"
put 0755 "$SOURCE/scripts/uninstall.sh" "$INSTALL_DIR/uninstall.sh"
# The read-only root (docs/deployment.md); its first-boot unit is enabled only by the image.
put 0755 "$SOURCE/scripts/readonly-root.sh" "$INSTALL_DIR/readonly-root.sh"
mkdir -p "$PREFIX$INSTALL_DIR/firmware_profiles"
for profile in "$SOURCE"/firmware_profiles/*.toml; do
    [ -f "$profile" ] || continue
    put 0644 "$profile" "$INSTALL_DIR/firmware_profiles/$(basename "$profile")"
done

# The user (and its groups) from the same sysusers.d file systemd applies at every boot.
if [ "$ROOT" = / ]; then
    systemd-sysusers /etc/sysusers.d/lorawan-appliance.conf
else
    mkdir -p "$ROOT/etc"
    systemd-sysusers --root="$ROOT" "$ROOT/etc/sysusers.d/lorawan-appliance.conf"
fi

# --- virtualenv ----------------------------------------------------------------------------------
if [ "$MAKE_VENV" -eq 1 ]; then
    venv="$PREFIX$INSTALL_DIR/venv"
    say "installing the appliance into $venv"
    # --system-site-packages: spidev, lgpio and gpiozero come from Raspberry Pi OS's packages,
    # built for its kernel and libraries.
    [ -x "$venv/bin/python" ] || "$PYTHON" -m venv --system-site-packages "$venv"
    # pip builds in the source tree; a copy keeps root-owned build files out of the checkout.
    staging="$(mktemp -d)"
    trap 'rm -rf "$staging"' EXIT
    tar -C "$SOURCE" --exclude=__pycache__ -cf - pyproject.toml README.md appliance hal tui \
        | tar -C "$staging" -xf -
    # shellcheck disable=SC2086  # PIP_ARGS is a list of words on purpose
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check $PIP_ARGS "$staging"
    mkdir -p "$PREFIX/usr/local/bin"
    ln -sfn "$INSTALL_DIR/venv/bin/appliance" "$PREFIX/usr/local/bin/appliance"
    installed+=(/usr/local/bin/appliance)
fi
# Merged with an earlier install's list, so uninstall.sh also finds files this run did not put.
{
    [ -f "$MANIFEST" ] && cat "$MANIFEST"
    printf '%s\n' "${installed[@]}"
} | sort -u >"$MANIFEST.new"
mv "$MANIFEST.new" "$MANIFEST"

# --- buses and configuration ---------------------------------------------------------------------
if [ "$ENABLE_SPI" -eq 1 ] || [ "$ENABLE_I2C" -eq 1 ]; then
    [ -n "$APPLIANCE" ] || die "--enable-spi/--enable-i2c need the appliance command (--appliance)"
    buses=()
    [ "$ENABLE_SPI" -eq 1 ] && buses+=(--spi)
    [ "$ENABLE_I2C" -eq 1 ] && buses+=(--i2c)
    "$APPLIANCE" service enable-buses "${buses[@]}" --root "$ROOT"
fi

config="$PREFIX/etc/lorawan-appliance/appliance.toml"
setup_args=(--root "$ROOT" --profiles-dir "$PREFIX$INSTALL_DIR/firmware_profiles")
[ -n "$GATEWAY_ID" ] && setup_args+=(--gateway-id "$GATEWAY_ID")
if [ -n "$REGION" ]; then
    [ -n "$APPLIANCE" ] || die "--region/--board need the appliance command (--appliance)"
    say "configuring region $REGION, board $BOARD"
    "$APPLIANCE" setup --non-interactive --region "$REGION" --board "$BOARD" "${setup_args[@]}"
elif [ -f "$config" ]; then
    say "keeping the configuration in $config"
elif [ "$ROOT" = / ] && [ -t 0 ] && [ -n "$APPLIANCE" ] && [ "$START" -eq 1 ]; then
    "$APPLIANCE" setup "${setup_args[@]}"
else
    say "no region and board chosen yet: the first-boot wizard asks on tty1, or run: sudo appliance setup"
fi

# --- enable and start ----------------------------------------------------------------------------
systemctl_offline=()
[ "$ROOT" = / ] || systemctl_offline=(--root="$ROOT")
systemctl "${systemctl_offline[@]}" enable lorawan-appliance.service lorawan-appliance-firstboot.service
if [ "$CONSOLE" -eq 1 ]; then
    systemctl "${systemctl_offline[@]}" enable lorawan-appliance-console.service
    # The console takes tty1 over from the login prompt; uninstall.sh gives it back.
    if systemctl "${systemctl_offline[@]}" --quiet is-enabled getty@tty1.service 2>/dev/null; then
        systemctl "${systemctl_offline[@]}" disable getty@tty1.service
        touch "$PREFIX$INSTALL_DIR/console-took-tty1"
    fi
fi

if [ "$START" -eq 1 ] && running_systemd; then
    say "starting $SERVICE"
    systemctl daemon-reload
    if command -v udevadm >/dev/null; then
        udevadm control --reload-rules
        udevadm trigger --subsystem-match=tty --subsystem-match=spidev --subsystem-match=gpio
    fi
    [ "$VOLATILE_JOURNAL" -eq 1 ] && systemctl restart systemd-journald
    sysctl -q -p /etc/sysctl.d/60-lorawan-appliance.conf || true
    if [ -f "$config" ]; then
        systemctl restart "$SERVICE"
        systemctl --no-pager --lines=5 status "$SERVICE" || true
    fi
    [ "$CONSOLE" -eq 1 ] && systemctl restart lorawan-appliance-console.service
fi
say "done: the appliance is installed in $PREFIX$INSTALL_DIR"
