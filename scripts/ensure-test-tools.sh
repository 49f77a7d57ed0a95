#!/usr/bin/env bash
# The deployment tests check the systemd units with systemd's own offline tools
# (systemd-analyze verify/security, systemd-sysusers --root, systemctl --root). This makes sure
# they exist: apt's `systemd` package when we are root (or have password-less sudo), otherwise
# it stops with a message saying what to run. Installing the package starts nothing in a
# container; the tools work on files.
set -euo pipefail

have_tools() {
    command -v systemd-analyze >/dev/null 2>&1 \
        && command -v systemd-sysusers >/dev/null 2>&1 \
        && command -v systemctl >/dev/null 2>&1 \
        && { [ -d /usr/lib/systemd/system ] || [ -d /lib/systemd/system ]; }
}

if have_tools; then
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
else
    echo "error: the deployment tests need systemd's tools and this user cannot install them." >&2
    echo "       Run: sudo apt-get install -y systemd   and then: make test" >&2
    exit 1
fi

echo "Installing systemd's tools with apt (needed by the deployment tests)..."
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends systemd >/dev/null
if ! have_tools; then
    echo "error: apt-get install systemd finished but systemd-analyze was not found" >&2
    exit 1
fi
