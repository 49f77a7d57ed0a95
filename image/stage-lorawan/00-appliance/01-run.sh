#!/bin/bash -e
# Install the appliance into the image: scripts/install.sh inside the image's chroot, the same
# command a person runs on an existing Raspberry Pi OS.
"${BASE_DIR}/lorawan-appliance-src/image/install-into-rootfs.sh" "${ROOTFS_DIR}"
