#!/usr/bin/env bash
# Read-only root for the appliance on Raspberry Pi OS: the state directory on a file system of
# its own (a partition of the SD card or a USB drive), everything else written to RAM.
#
#   sudo readonly-root.sh enable --data-device /dev/sda1 [--format]
#   sudo readonly-root.sh disable
#   readonly-root.sh status
#
# enable: checks the device (never the root's or the boot partition's, never mounted elsewhere),
# formats it only with --format, copies the state over (service stopped, old copy kept), mounts
# it on /var/lib/lorawan-appliance by an /etc/fstab line (UUID, nofail, noatime, commit=60),
# and turns Raspberry Pi OS's overlay (the overlayroot package) on from the next boot, with
# recurse=0 so that the data file system stays writable. disable turns the overlay off from the
# next boot; configuration changes need it off. --root DIR edits the files below DIR and mounts,
# installs and starts nothing (images, tests). docs/deployment.md describes every option.
set -euo pipefail
# mkfs.ext4, blkid and debugfs live in /usr/sbin, which a plain user's PATH may lack (status).
export PATH="$PATH:/usr/sbin:/sbin"

STATE_DIR=/var/lib/lorawan-appliance
SERVICE=lorawan-appliance.service
FIRST_BOOT_UNIT=lorawan-appliance-readonly-root.service
DATA_LABEL=lorawan-data
# recurse=0: overlayroot's default (recurse=1, what raspi-config writes) would also put every
# other file system in /etc/fstab, the data one included, under a RAM overlay.
OVERLAY_TOKEN=overlayroot=tmpfs:recurse=0
MOUNT_OPTIONS=defaults,noatime,nofail,commit=60,x-systemd.device-timeout=30s
FSTAB_MARK="# lorawan-appliance: the state directory on its own file system (readonly-root.sh)"
DROP_IN=/etc/systemd/system/$SERVICE.d/60-state-mount.conf
CMDLINES=(/boot/firmware/cmdline.txt /boot/cmdline.txt)
OVERLAYROOT_SCRIPT=/usr/share/initramfs-tools/scripts/init-bottom/overlayroot

usage() {
    cat <<EOF
usage: $0 enable [--data-device DEV] [--format] [--root DIR]
       $0 disable [--root DIR]
       $0 status [--root DIR]

  enable              state on DEV, overlay on from the next boot (without --data-device:
                      the data device already configured)
  disable             overlay off from the next boot; the state stays on its device
  status              what is configured and what is active now
  --data-device DEV   partition or drive for $STATE_DIR (not the root's, not mounted)
  --format            make an ext4 file system on DEV first: ERASES DEV
  --root DIR          edit the files below DIR only: no mount, apt or systemctl (default /)
  --first-boot        (the image's first boot) use the $DATA_LABEL partition of the boot disk
EOF
}

die() {
    echo "readonly-root.sh: error: $*" >&2
    exit 2
}

say() {
    echo "==> $*"
}

COMMAND=""
DEVICE=""
FORMAT=0
FIRST_BOOT=0
ROOT=/
case "${1:-}" in
    enable | disable | status) COMMAND=$1; shift ;;
    -h | --help) usage; exit 0 ;;
    "") die "enable, disable or status? (see --help)" ;;
    *) die "unknown command: $1 (see --help)" ;;
esac
while [ $# -gt 0 ]; do
    case "$1" in
        --data-device) [ $# -ge 2 ] && [ -n "$2" ] || die "--data-device needs a device"; DEVICE=$2; shift 2 ;;
        --format) FORMAT=1; shift ;;
        --first-boot) FIRST_BOOT=1; shift ;;
        --root) [ $# -ge 2 ] && [ -n "$2" ] || die "--root needs a directory"; ROOT=$2; shift 2 ;;
        -h | --help) usage; exit 0 ;;
        *) die "unknown option: $1 (see --help)" ;;
    esac
done
if [ "$COMMAND" != enable ] && { [ -n "$DEVICE" ] || [ "$FORMAT" -eq 1 ] || [ "$FIRST_BOOT" -eq 1 ]; }; then
    die "--data-device, --format and --first-boot go with enable"
fi
[ "$FORMAT" -eq 0 ] || [ -n "$DEVICE" ] || die "--format needs --data-device"
[ -d "$ROOT" ] || die "--root $ROOT is not a directory"
ROOT="$(cd "$ROOT" && pwd)"
if [ "$ROOT" = / ]; then
    PREFIX=""
    LIVE=1
else
    PREFIX="$ROOT"
    LIVE=0
fi
[ "$FIRST_BOOT" -eq 0 ] || [ "$LIVE" -eq 1 ] || die "--first-boot runs on the device itself, not with --root"
if [ "$LIVE" -eq 1 ] && [ "$COMMAND" != status ] && [ "$(id -u)" -ne 0 ]; then
    die "this needs root: sudo $0 $COMMAND ..."
fi
FSTAB="$PREFIX/etc/fstab"

# --- what is configured ------------------------------------------------------------------------
cmdline_file() { # the kernel command line Raspberry Pi OS boots with
    local candidate
    for candidate in "${CMDLINES[@]}"; do
        if [ -f "$PREFIX$candidate" ]; then
            echo "$PREFIX$candidate"
            return 0
        fi
    done
    return 1
}

overlay_setting() { # the overlayroot= word of cmdline.txt, if any
    local word words=()
    read -r -a words <"$1" || true
    for word in "${words[@]}"; do
        case "$word" in overlayroot=*) echo "$word"; return 0 ;; esac
    done
    return 0
}

overlay_active() { # the running system's root is an overlay (never true with --root)
    [ "$LIVE" -eq 1 ] && [ "$(findmnt -no FSTYPE / 2>/dev/null)" = overlay ]
}

data_spec() { # the file system /etc/fstab mounts on the state directory (UUID=...), if any
    [ -f "$FSTAB" ] || return 0
    awk -v dir="$STATE_DIR" '$1 !~ /^#/ && $2 == dir { print $1; exit }' "$FSTAB"
}

probe() { # probe FIELD DEV: a value from the device's own signature (blkid -p, no cache)
    blkid -p -o value -s "$1" "$2" 2>/dev/null || true
}

overlayroot_installed() {
    [ -f "$PREFIX$OVERLAYROOT_SCRIPT" ]
}

# --- checks on the data device ---------------------------------------------------------------
same_as_spec() { # same_as_spec SPEC DEV: does an fstab spec name this device?
    case "$1" in
        UUID=*) [ "${1#UUID=}" = "$(probe UUID "$2")" ] ;;
        PARTUUID=*) [ "${1#PARTUUID=}" = "$(probe PART_ENTRY_UUID "$2")" ] ;;
        LABEL=*) [ "${1#LABEL=}" = "$(probe LABEL "$2")" ] ;;
        /*) [ "$(readlink -f "$PREFIX$1" 2>/dev/null || echo "$1")" = "$2" ] ;;
        *) false ;;
    esac
}

check_device() { # refuses what would hurt: sets DEVICE to its resolved path
    [ -e "$DEVICE" ] || die "$DEVICE does not exist"
    DEVICE="$(readlink -f "$DEVICE")"
    if [ "$LIVE" -eq 1 ]; then
        [ -b "$DEVICE" ] || die "$DEVICE is not a block device"
    else
        [ -b "$DEVICE" ] || [ -f "$DEVICE" ] || die "$DEVICE is neither a block device nor a file"
    fi
    local spec file
    while read -r spec file _; do
        case "$spec" in '#'* | '') continue ;; esac
        case "$file" in
            /) ! same_as_spec "$spec" "$DEVICE" || die "$DEVICE is the root file system's own device (/ in $FSTAB)" ;;
            /boot | /boot/firmware) ! same_as_spec "$spec" "$DEVICE" || die "$DEVICE is the boot partition ($file in $FSTAB)" ;;
        esac
    done < <([ -f "$FSTAB" ] && cat "$FSTAB")
    [ "$LIVE" -eq 1 ] || return 0
    local node target
    for node in $(lsblk -nrpo NAME "$DEVICE"); do
        while read -r target; do
            case "$target" in
                "$STATE_DIR")
                    [ "$(data_spec)" = "UUID=$(probe UUID "$node")" ] \
                        || die "$DEVICE is mounted on $target but not by /etc/fstab: unmount it first"
                    [ "$FORMAT" -eq 0 ] || die "$DEVICE holds the state now: --format would erase it"
                    ;;
                / | /media/root-ro) die "$DEVICE holds the root file system (mounted on $target)" ;;
                /boot | /boot/firmware) die "$DEVICE holds the boot partition (mounted on $target)" ;;
                *) die "$DEVICE is mounted on $target: unmount it first" ;;
            esac
        done < <(findmnt -rno TARGET -S "$node" || true)
    done
}

holds_files() { # the ext4 file system on DEV has anything besides lost+found
    debugfs -R 'ls -p /' "$1" 2>/dev/null \
        | awk -F/ '$6 != "" && $6 != "." && $6 != ".." && $6 != "lost+found" { found = 1 } END { exit !found }'
}

first_boot_device() { # the image's data partition: label lorawan-data, on the root's disk
    local root_source disk candidate
    root_source="$(findmnt -no SOURCE /)"
    disk="$(lsblk -no PKNAME "$root_source" 2>/dev/null || true)"
    [ -n "$disk" ] || return 1
    for candidate in $(blkid -o device -t "LABEL=$DATA_LABEL" 2>/dev/null || true); do
        if [ "$(lsblk -no PKNAME "$candidate" 2>/dev/null)" = "$disk" ]; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

# --- changes -----------------------------------------------------------------------------------
state_has_files() {
    [ -d "$PREFIX$STATE_DIR" ] && [ -n "$(ls -A "$PREFIX$STATE_DIR")" ]
}

replace_file() { # replace_file PATH: stdin becomes PATH, through a temporary file beside it
    cat >"$1.new"
    mv "$1.new" "$1"
}

write_fstab() { # write_fstab UUID: the one line that mounts the state directory
    mkdir -p "$(dirname "$FSTAB")"
    [ -f "$FSTAB" ] || : >"$FSTAB"
    {
        awk -v dir="$STATE_DIR" -v mark="$FSTAB_MARK" '$0 != mark && !($1 !~ /^#/ && $2 == dir)' "$FSTAB"
        echo "$FSTAB_MARK"
        printf 'UUID=%s  %s  ext4  %s  0  2\n' "$1" "$STATE_DIR" "$MOUNT_OPTIONS"
    } | replace_file "$FSTAB"
    chmod 0644 "$FSTAB"
}

write_drop_in() { # the appliance never starts with its state directory in RAM
    mkdir -p "$(dirname "$PREFIX$DROP_IN")"
    cat <<EOF | replace_file "$PREFIX$DROP_IN"
# Written by readonly-root.sh: the state lives on its own file system; without it mounted the
# appliance does not start (its state would otherwise be written to RAM and lost).
[Unit]
RequiresMountsFor=$STATE_DIR
EOF
    chmod 0644 "$PREFIX$DROP_IN"
}

set_overlay() { # set_overlay CMDLINE on|off
    local word words=() kept=()
    read -r -a words <"$1" || true
    for word in "${words[@]}"; do
        case "$word" in overlayroot=*) ;; *) kept+=("$word") ;; esac
    done
    [ "$2" = off ] || kept=("$OVERLAY_TOKEN" "${kept[@]}")
    echo "${kept[*]}" | replace_file "$1"
}

with_boot_writable() { # with_boot_writable CMDLINE COMMAND...: remount a read-only boot partition
    local cmdline=$1 mountpoint="" remounted=0
    shift
    if [ "$LIVE" -eq 1 ]; then
        mountpoint="$(findmnt -no TARGET -T "$cmdline" || true)"
        if [ -n "$mountpoint" ] && findmnt -no OPTIONS "$mountpoint" | grep -qE '(^|,)ro(,|$)'; then
            mount -o remount,rw "$mountpoint" || die "cannot make $mountpoint writable"
            remounted=1
        fi
    fi
    "$@"
    [ "$remounted" -eq 0 ] || mount -o remount,ro "$mountpoint" || true
}

copy_state() { # onto DEVICE: by mkfs -d when formatting, by a temporary mount otherwise
    local source="$PREFIX$STATE_DIR" args=(-F -q -L "$DATA_LABEL" -m 1) out
    if [ "$FORMAT" -eq 1 ]; then
        if state_has_files; then args+=(-d "$source"); fi
        out="$(mkfs.ext4 "${args[@]}" "$DEVICE" 2>&1)" || die "mkfs.ext4 failed on $DEVICE: ${out##*$'\n'}"
        # The top of the new file system is the state directory: its owner and mode 0700.
        local owner=(0 0)
        if [ -d "$source" ]; then read -r -a owner < <(stat -c '%u %g' "$source"); fi
        printf 'sif / uid %s\nsif / gid %s\nsif / mode 040700\n' "${owner[@]}" \
            | debugfs -w -f - "$DEVICE" >/dev/null 2>&1 || die "cannot set the owner of $DEVICE's top directory"
    elif state_has_files; then
        local target
        target="$(mktemp -d)"
        mount -t ext4 "$DEVICE" "$target" || die "cannot mount $DEVICE"
        cp -a "$source/." "$target/" || { umount "$target"; die "copying $source to $DEVICE failed"; }
        chown --reference="$source" "$target"
        chmod 0700 "$target"
        sync
        umount "$target"
        rmdir "$target"
    fi
    if state_has_files; then # the old copy stays on the root, beside the mount point
        local backup="$source.pre-data-device"
        [ ! -e "$backup" ] || backup="$backup-$(date +%Y%m%d%H%M%S)"
        mv "$source" "$backup"
        mkdir -m 0700 "$source"
        chown --reference="$backup" "$source"
        say "the state is on $DEVICE; the copy it was made from stays in ${backup#"$PREFIX"}"
    elif [ ! -d "$source" ]; then
        mkdir -p "$(dirname "$source")"
        mkdir -m 0700 "$source"
    fi
}

ensure_overlayroot() {
    overlayroot_installed && return 0
    if [ "$LIVE" -eq 0 ]; then
        say "note: overlayroot is not installed below $ROOT: install the overlayroot package there"
        return 0
    fi
    say "installing the overlayroot package"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq overlayroot >/dev/null \
        || die "apt-get install overlayroot failed: is the network up?"
}

# --- the commands ------------------------------------------------------------------------------
cmd_enable() {
    local cmdline spec uuid fstype was_active=0
    cmdline="$(cmdline_file)" || die "no cmdline.txt in ${PREFIX:-}/boot/firmware: is this Raspberry Pi OS?"
    overlay_active && die "the overlay is on: run '$0 disable', reboot, then enable again"
    if [ "$FIRST_BOOT" -eq 1 ] && [ -z "$DEVICE" ]; then
        if ! DEVICE="$(first_boot_device)"; then
            say "no $DATA_LABEL partition on the boot disk (card too small?): the root stays writable"
            systemctl disable "$FIRST_BOOT_UNIT" 2>/dev/null || true
            return 0
        fi
    fi
    if [ "$LIVE" -eq 1 ] && [ "$(awk '/^MemTotal/ { print $2 }' /proc/meminfo)" -le 262144 ]; then
        die "the overlay keeps every write in RAM: this board has 256 MB or less"
    fi
    spec="$(data_spec)"
    if [ -n "$DEVICE" ]; then
        check_device
        uuid="$(probe UUID "$DEVICE")"
        fstype="$(probe TYPE "$DEVICE")"
        if [ "$FORMAT" -eq 0 ] && [ -n "$uuid" ] && [ "$spec" = "UUID=$uuid" ]; then
            say "$DEVICE already holds the state"
        else
            if [ "$LIVE" -eq 1 ] && mountpoint -q "$STATE_DIR"; then
                die "$STATE_DIR is mounted from $(findmnt -no SOURCE --mountpoint "$STATE_DIR"): to move the state, stop $SERVICE, unmount it and copy it by hand"
            fi
            if [ "$FORMAT" -eq 0 ]; then
                [ "$fstype" = ext4 ] || die "$DEVICE has no ext4 file system (found: ${fstype:-none}); --format makes one and erases it"
                ! holds_files "$DEVICE" || die "$DEVICE already holds files: use an empty file system, or --format to erase it"
                [ "$LIVE" -eq 1 ] || ! state_has_files \
                    || die "copying the state onto an existing file system needs it mounted: run this on the device, or use --format"
            fi
            if [ "$LIVE" -eq 1 ] && systemctl --quiet is-active "$SERVICE"; then
                was_active=1
                say "stopping $SERVICE while its state moves"
                systemctl stop "$SERVICE"
            fi
            copy_state
            uuid="$(probe UUID "$DEVICE")"
            [ -n "$uuid" ] || die "$DEVICE has no file system UUID after formatting"
            write_fstab "$uuid"
            write_drop_in
            say "/etc/fstab mounts UUID=$uuid on $STATE_DIR"
        fi
    elif [ -z "$spec" ]; then
        die "no data device yet: --data-device DEV (the state must not live in RAM)"
    fi
    ensure_overlayroot
    with_boot_writable "$cmdline" set_overlay "$cmdline" on
    say "${cmdline#"$PREFIX"}: $OVERLAY_TOKEN (the root is read-only from the next boot)"
    if [ "$LIVE" -eq 1 ]; then
        systemctl daemon-reload
        mountpoint -q "$STATE_DIR" || mount "$STATE_DIR" || die "cannot mount $STATE_DIR (see journalctl -b)"
        if [ "$was_active" -eq 1 ]; then
            systemctl start "$SERVICE"
        fi
        [ "$FIRST_BOOT" -eq 0 ] || systemctl disable "$FIRST_BOOT_UNIT" 2>/dev/null || true
        say "done: reboot to make the root read-only; change the configuration only with the overlay off ($0 disable)"
    fi
}

cmd_disable() {
    local cmdline
    cmdline="$(cmdline_file)" || die "no cmdline.txt in ${PREFIX:-}/boot/firmware: is this Raspberry Pi OS?"
    if [ -z "$(overlay_setting "$cmdline")" ] && ! overlay_active; then
        say "the overlay is already off; the state stays where /etc/fstab puts it"
        return 0
    fi
    with_boot_writable "$cmdline" set_overlay "$cmdline" off
    say "${cmdline#"$PREFIX"}: overlay off from the next boot"
    if overlay_active; then
        say "the root stays read-only until then: reboot, change what you need, then: $0 enable, and reboot"
    fi
    if [ -n "$(data_spec)" ]; then
        say "the state stays on $(data_spec) (its /etc/fstab line is kept)"
    fi
}

cmd_status() {
    local cmdline setting spec mounted
    if cmdline="$(cmdline_file)"; then
        setting="$(overlay_setting "$cmdline")"
        case "$setting" in
            "") echo "overlay: off in ${cmdline#"$PREFIX"}" ;;
            *recurse=0*) echo "overlay: on in ${cmdline#"$PREFIX"} ($setting)" ;;
            *) echo "overlay: on in ${cmdline#"$PREFIX"} ($setting) WITHOUT recurse=0: the data file system is in RAM too; run: $0 enable" ;;
        esac
    else
        echo "overlay: no cmdline.txt in ${PREFIX:-}/boot/firmware"
    fi
    if [ "$LIVE" -eq 1 ]; then
        if overlay_active; then echo "root now: read-only (overlay, writes go to RAM)"; else echo "root now: writable"; fi
    fi
    spec="$(data_spec)"
    if [ -z "$spec" ]; then
        echo "state: on the root file system ($STATE_DIR, no /etc/fstab line of its own)"
    else
        echo "state: $spec on $STATE_DIR (/etc/fstab)"
    fi
    if [ "$LIVE" -eq 1 ] && [ -n "$spec" ]; then
        mounted="$(findmnt -no SOURCE,FSTYPE --mountpoint "$STATE_DIR" || true)"
        echo "state now: ${mounted:-NOT MOUNTED (the appliance does not start)}"
    fi
    if overlayroot_installed; then echo "overlayroot package: installed"; else echo "overlayroot package: not installed"; fi
}

"cmd_$COMMAND"
