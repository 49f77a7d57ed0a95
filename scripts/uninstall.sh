#!/usr/bin/env bash
# Remove the LoRaWAN appliance that scripts/install.sh installed.
#
#   sudo scripts/uninstall.sh            # keeps /etc/lorawan-appliance and /var/lib/lorawan-appliance
#   sudo scripts/uninstall.sh --purge    # deletes the configuration and all data too
#
# The service user stays: Debian never deletes system users, so files it owned can never be
# handed to a later user with the same UID. install.sh also copies this script to
# /opt/lorawan-appliance/uninstall.sh.
set -euo pipefail

INSTALL_DIR=/opt/lorawan-appliance
UNITS=(lorawan-appliance-console.service lorawan-appliance.service lorawan-appliance-firstboot.service lorawan-appliance-readonly-root.service)
ROOT=/
PURGE=0

usage() {
    cat <<EOF
usage: $0 [--purge] [--root DIR]

  --purge      also delete /etc/lorawan-appliance (configuration) and
               /var/lib/lorawan-appliance (devices, sessions, keys): this cannot be undone
  --root DIR   remove from the system below DIR; touch nothing running (default /)
EOF
}

die() {
    echo "uninstall.sh: error: $*" >&2
    exit 2
}

while [ $# -gt 0 ]; do
    case "$1" in
        --purge) PURGE=1; shift ;;
        --root) [ $# -ge 2 ] || die "--root needs a directory"; ROOT=$2; shift 2 ;;
        -h | --help) usage; exit 0 ;;
        *) die "unknown option: $1 (see --help)" ;;
    esac
done

[ -d "$ROOT" ] || die "--root $ROOT is not a directory"
ROOT="$(cd "$ROOT" && pwd)"
if [ "$ROOT" = / ]; then
    PREFIX=""
    [ "$(id -u)" -eq 0 ] || die "uninstalling needs root: sudo $0"
    systemctl_args=()
else
    PREFIX="$ROOT"
    systemctl_args=(--root="$ROOT")
fi
MANIFEST="$PREFIX$INSTALL_DIR/installed-files"
[ -f "$MANIFEST" ] || die "$MANIFEST not found: the appliance is not installed below $ROOT"

running_systemd() {
    [ "$ROOT" = / ] && [ -d /run/systemd/system ]
}

echo "==> stopping and disabling the appliance's units"
if running_systemd; then
    systemctl stop "${UNITS[@]}" 2>/dev/null || true
fi
for unit in "${UNITS[@]}"; do
    if [ -f "$PREFIX/etc/systemd/system/$unit" ]; then
        systemctl "${systemctl_args[@]}" disable "$unit" 2>/dev/null || true
    fi
done
if [ -f "$PREFIX$INSTALL_DIR/console-took-tty1" ]; then
    systemctl "${systemctl_args[@]}" enable getty@tty1.service
fi

echo "==> removing the installed files"
while IFS= read -r path; do
    case "$path" in
        /*) rm -f "$PREFIX$path" ;;
        *) ;; # only absolute paths were written; anything else is not ours to delete
    esac
done <"$MANIFEST"
# The generated DeviceAllow drop-in belongs to the unit that is gone now.
rm -rf "$PREFIX/etc/systemd/system/lorawan-appliance.service.d"
rm -rf "${PREFIX:?}$INSTALL_DIR"

if [ "$PURGE" -eq 1 ]; then
    echo "==> deleting the configuration and the data"
    rm -rf "$PREFIX/etc/lorawan-appliance" "$PREFIX/var/lib/lorawan-appliance"
else
    echo "==> kept: $PREFIX/etc/lorawan-appliance and $PREFIX/var/lib/lorawan-appliance (--purge deletes them)"
fi

if running_systemd; then
    systemctl daemon-reload
    if command -v udevadm >/dev/null; then
        udevadm control --reload-rules
    fi
fi
echo "==> done; the system user lorawan-appliance stays (see the top of this script)"
