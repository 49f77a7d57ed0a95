#!/usr/bin/env bash
# The deployment tests check the systemd units with systemd's own offline tools
# (systemd-analyze verify/security, systemd-sysusers --root, systemctl --root), and the read-only
# root with real file systems in plain files (mkfs.ext4, blkid, debugfs) and a real partition
# table (parted). This makes sure they exist: apt's `systemd`, `e2fsprogs`, `util-linux` and
# `parted` packages when we are root (or have password-less sudo), otherwise it stops with a
# message saying what to run. Installing them starts nothing in a container; the tools work on
# files, and no loop device is needed.
set -euo pipefail

PACKAGES=(systemd e2fsprogs util-linux parted)

have_tools() {
    local tool
    for tool in systemd-analyze systemd-sysusers systemctl mkfs.ext4 debugfs dumpe2fs blkid parted; do
        command -v "$tool" >/dev/null 2>&1 || return 1
    done
    [ -d /usr/lib/systemd/system ] || [ -d /lib/systemd/system ]
}

# The file-system tools live in /sbin and /usr/sbin, which a plain user's PATH may lack.
export PATH="$PATH:/usr/sbin:/sbin"

if have_tools; then
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
else
    echo "error: the deployment tests need systemd's and the file-system tools, and this user cannot install them." >&2
    echo "       Run: sudo apt-get install -y ${PACKAGES[*]}   and then: make test" >&2
    exit 1
fi

echo "Installing the deployment tests' tools with apt: ${PACKAGES[*]}..."
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null
if ! have_tools; then
    echo "error: apt-get install ${PACKAGES[*]} finished but a tool is still missing" >&2
    exit 1
fi
