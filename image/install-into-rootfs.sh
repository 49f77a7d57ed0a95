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
# on tty1, LORAWAN_SWAP_FILE=1 keeps Raspberry Pi OS's swap file on the SD card.
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
    rm -rf "${rootfs:?}$STAGING"
fi

# SD-card care beyond the volatile journal: no swap file on the card unless asked for.
swap_unit=dphys-swapfile.service
if [ "${LORAWAN_SWAP_FILE:-0}" != 1 ] \
    && { [ -e "$rootfs/usr/lib/systemd/system/$swap_unit" ] || [ -e "$rootfs/lib/systemd/system/$swap_unit" ]; }; then
    systemctl --root="$rootfs" disable "$swap_unit"
fi
echo "==> appliance installed into $rootfs"
