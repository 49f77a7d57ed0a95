#!/usr/bin/env bash
# The test suite starts its own Mosquitto broker on loopback; this makes sure the binary exists.
# It installs it with apt when we are root (or have password-less sudo), otherwise it stops
# with a message saying what to run.
set -euo pipefail

find_mosquitto() {
    command -v mosquitto 2>/dev/null || { [ -x /usr/sbin/mosquitto ] && echo /usr/sbin/mosquitto; } || true
}

if [ -n "$(find_mosquitto)" ]; then
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
else
    echo "error: the test suite needs the Mosquitto MQTT broker and this user cannot install it." >&2
    echo "       Run: sudo apt-get install -y mosquitto   and then: make test" >&2
    exit 1
fi

echo "Installing the Mosquitto broker with apt (needed by the integration tests)..."
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends mosquitto >/dev/null
# A packaged broker may start as a service on port 1883; the tests start their own on a free
# port, so the system one is left as the package set it up.
if [ -z "$(find_mosquitto)" ]; then
    echo "error: apt-get install mosquitto finished but no mosquitto binary was found" >&2
    exit 1
fi
