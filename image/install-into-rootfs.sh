#!/usr/bin/env bash
# The appliance's part of the image build: install it into a Raspberry Pi OS root file system.
#
#   install-into-rootfs.sh ROOTFS           from pi-gen's stage (on_chroot defined): the full
#                                           install, run by scripts/install.sh inside the chroot
#   install-into-rootfs.sh --smoke ROOTFS   anywhere, no chroot, no loop device: the same files,
#                                           user and units below ROOTFS, without the virtualenv
#                                           (which needs the image's arm64 Python); CI runs this
#
# Options come from pi-gen's config (image/config): LORAWAN_CONSOLE=1 puts the appliance console
# on tty1, LORAWAN_SWAP_FILE=1 keeps Raspberry Pi OS's swap file on the SD card,
# LORAWAN_READONLY_ROOT=1 makes the first boot keep the root at LORAWAN_ROOT_SIZE_MIB, put the
# state on a data partition made of the rest, and turn the read-only root (overlay) on.
set -euo pipefail

SOURCE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STAGING=/usr/src/lorawan-appliance # where the source waits inside the image during the build

smoke=0
if [ "${1:-}" = --smoke ]; then
    smoke=1
    shift
fi
[ $# -eq 1 ] && [ -d "$1" ] || {
    echo "usage: $0 [--smoke] ROOTFS" >&2
    exit 2
}
rootfs="$(cd "$1" && pwd)"

readonly_root="${LORAWAN_READONLY_ROOT:-0}"
root_size_mib="${LORAWAN_ROOT_SIZE_MIB:-6144}"
[ "$readonly_root" = 0 ] || [ "$readonly_root" = 1 ] || {
    echo "LORAWAN_READONLY_ROOT must be 0 or 1, not $readonly_root" >&2
    exit 2
}
# The initramfs script that grows the root at first boot, which ours replaces (image/initramfs).
sys_mods_resize="$rootfs/usr/share/initramfs-tools/scripts/local-premount/firstboot"
if [ "$readonly_root" = 1 ]; then
    [[ "$root_size_mib" =~ ^[0-9]+$ ]] && [ "$root_size_mib" -ge 2048 ] || {
        echo "LORAWAN_ROOT_SIZE_MIB must be a whole number of MiB, at least 2048, not $root_size_mib" >&2
        exit 2
    }
    grep -q resizepart "$sys_mods_resize" 2>/dev/null || {
        echo "LORAWAN_READONLY_ROOT=1: $sys_mods_resize (raspberrypi-sys-mods' first-boot resize)" \
            "is missing or has changed; image/initramfs/firstboot must follow it first" >&2
        exit 2
    }
fi

# The image is set up on first boot (appliance setup on tty1), so no region or board here.
install_args=(--no-apt --no-start --volatile-journal)
[ "${LORAWAN_CONSOLE:-0}" = 1 ] && install_args+=(--console)

if [ "$smoke" -eq 1 ]; then
    "$SOURCE/scripts/install.sh" --root "$rootfs" --no-venv "${install_args[@]}"
else
    mkdir -p "$rootfs$STAGING"
    # The checkout without its local state: virtualenvs, caches, data, image build trees.
    tar -C "$SOURCE" \
        --exclude=./.git --exclude=./.venv --exclude=./data --exclude=./build --exclude=./dist \
        --exclude=./image/work --exclude='*.egg-info' --exclude=__pycache__ \
        --exclude=.mypy_cache --exclude=.ruff_cache --exclude=.pytest_cache --exclude=.hypothesis \
        -cf - . | tar -C "$rootfs$STAGING" -xf -
    on_chroot <<EOF
"$STAGING/scripts/install.sh" ${install_args[*]}
EOF
    if [ "$readonly_root" = 1 ]; then
        # Raspberry Pi OS's overlay (what raspi-config installs for it); pi-gen builds the
        # initramfs with it and with our scripts when it exports the image.
        on_chroot <<EOF
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq overlayroot
EOF
    fi
    rm -rf "${rootfs:?}$STAGING"
fi

# SD-card care beyond the volatile journal: no swap file on the card unless asked for.
swap_unit=dphys-swapfile.service
if [ "${LORAWAN_SWAP_FILE:-0}" != 1 ] \
    && { [ -e "$rootfs/usr/lib/systemd/system/$swap_unit" ] || [ -e "$rootfs/lib/systemd/system/$swap_unit" ]; }; then
    systemctl --root="$rootfs" disable "$swap_unit"
fi

if [ "$readonly_root" = 1 ]; then
    initramfs="$rootfs/etc/initramfs-tools"
    mkdir -p "$initramfs/scripts/local-premount"
    sed "s/^LORAWAN_ROOT_SIZE_MIB=.*/LORAWAN_ROOT_SIZE_MIB=$root_size_mib/" "$SOURCE/image/initramfs/firstboot" \
        >"$initramfs/scripts/local-premount/firstboot"
    chmod 0755 "$initramfs/scripts/local-premount/firstboot"
    install -D -m 0755 "$SOURCE/image/initramfs/hook" "$initramfs/hooks/lorawan-appliance-data"
    systemctl --root="$rootfs" enable lorawan-appliance-readonly-root.service
    echo "==> read-only root: the first boot keeps the root at $root_size_mib MiB and makes a data partition"
fi
echo "==> appliance installed into $rootfs"
