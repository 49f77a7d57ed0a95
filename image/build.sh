#!/usr/bin/env bash
# Build the flashable image: Raspberry Pi OS Lite (Bookworm, arm64) with the appliance installed.
#
#   sudo image/build.sh                  # or: sudo make image
#   sudo image/build.sh --docker         # inside pi-gen's Docker container
#   sudo image/build.sh --config FILE    # more pi-gen settings (e.g. WPA_COUNTRY, TIMEZONE_DEFAULT)
#
# Needs a Debian host (or Docker) with root, binfmt_misc for arm64 emulation and loop devices.
# pi-gen is cloned into image/work/pi-gen at PIGEN_REF; the image lands in image/deploy/.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SOURCE="$(cd "$HERE/.." && pwd)"
WORK="${LORAWAN_IMAGE_WORK:-$HERE/work}"
DEPLOY="${LORAWAN_IMAGE_DEPLOY:-$HERE/deploy}"
PIGEN_REPO="${PIGEN_REPO:-https://github.com/RPi-Distro/pi-gen.git}"
# The branch pi-gen builds 64-bit Bookworm images from; pin a commit here for repeatable builds.
PIGEN_REF="${PIGEN_REF:-bookworm-arm64}"
# pi-gen's own host requirements (its `depends` file), as Debian packages.
HOST_PACKAGES=(coreutils quilt parted qemu-user-static debootstrap zerofree zip dosfstools
    e2fsprogs libarchive-tools libcap2-bin grep rsync xz-utils file git curl bc gpg pigz xxd
    arch-test kmod binfmt-support)

docker=0
extra_config=""
while [ $# -gt 0 ]; do
    case "$1" in
        --docker) docker=1; shift ;;
        --config)
            [ $# -ge 2 ] && [ -f "$2" ] || { echo "build.sh: --config needs a file" >&2; exit 2; }
            extra_config="$(cd "$(dirname "$2")" && pwd)/$(basename "$2")"
            shift 2
            ;;
        -h | --help) sed -n '2,10p' "$0"; exit 0 ;;
        *) echo "build.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done

[ "$(id -u)" -eq 0 ] || { echo "build.sh: pi-gen needs root: sudo $0" >&2; exit 2; }

if [ "$docker" -eq 0 ]; then
    missing=()
    for package in "${HOST_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
            || missing+=("$package")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        echo "==> installing pi-gen's host packages: ${missing[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
    fi
else
    command -v docker >/dev/null || { echo "build.sh: --docker needs docker" >&2; exit 2; }
fi

pigen="$WORK/pi-gen"
mkdir -p "$WORK" "$DEPLOY"
if [ ! -d "$pigen/.git" ]; then
    git clone --quiet "$PIGEN_REPO" "$pigen"
fi
git -C "$pigen" fetch --quiet origin "$PIGEN_REF"
git -C "$pigen" checkout --quiet --force FETCH_HEAD
echo "==> pi-gen $(git -C "$pigen" rev-parse --short HEAD) ($PIGEN_REF)"

# Our stage and a copy of the source live inside pi-gen's tree, so its Docker build (which
# copies that tree into the container) sees them too.
rm -rf "$pigen/stage-lorawan" "$pigen/lorawan-appliance-src"
cp -a "$HERE/stage-lorawan" "$pigen/stage-lorawan"
mkdir -p "$pigen/lorawan-appliance-src"
tar -C "$SOURCE" \
    --exclude=./.git --exclude=./.venv --exclude=./data --exclude=./build --exclude=./dist \
    --exclude=./image/work --exclude=./image/deploy --exclude='*.egg-info' --exclude=__pycache__ \
    --exclude=.mypy_cache --exclude=.ruff_cache --exclude=.pytest_cache --exclude=.hypothesis \
    -cf - . | tar -C "$pigen/lorawan-appliance-src" -xf -
# Only the appliance image, not also plain Raspberry Pi OS Lite from stage2.
touch "$pigen/stage2/SKIP_IMAGES"

{
    cat "$HERE/config"
    # In Docker, pi-gen's default deploy/ is copied out of the container below.
    [ "$docker" -eq 1 ] || echo "DEPLOY_DIR=\"$DEPLOY\""
    if [ -n "$extra_config" ]; then cat "$extra_config"; fi
} >"$pigen/config"

cd "$pigen"
if [ "$docker" -eq 1 ]; then
    ./build-docker.sh
    cp -v deploy/* "$DEPLOY/"
else
    ./build.sh
fi
echo "==> image in $DEPLOY:"
ls -l "$DEPLOY"
