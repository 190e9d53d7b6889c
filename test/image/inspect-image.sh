#!/usr/bin/env bash
# Inspects a built image WITHOUT mounting it: partition table, labels, the FAT's boot files and
# config.txt lines (mtools on the image at the partition's offset), the root's units, firmware and
# addon (debugfs on the extracted ext4). Prints one "ok"/"FAIL" line per check; exits 1 on any FAIL.
#   test/image/inspect-image.sh IMAGE BOARD
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
img=${1:?image} board=${2:?board}
# shellcheck source=../../scripts/image/board.sh
. "$repo/scripts/image/board.sh" "$board"
fails=0
check() { local what=$1; shift; if "$@" >/dev/null 2>&1; then echo "  ok    $what"; else echo "  FAIL  $what"; fails=$((fails + 1)); fi; }
work=$(mktemp -d "${TMPDIR:-/tmp}/torlk-inspect-XXXXXX")
trap 'rm -rf "$work"' EXIT

echo "partition table (sfdisk --dump)"
sfdisk --dump "$img" >"$work/table" || { echo "  FAIL  sfdisk cannot read $img"; exit 1; }
starts=($(sed -n 's/.*start= *\([0-9]*\),.*/\1/p' "$work/table"))
sizes=($(sed -n 's/.*size= *\([0-9]*\),.*/\1/p' "$work/table"))
check "label: dos" grep -q '^label: dos' "$work/table"
check "three partitions" test ${#starts[@]} = 3
check "p1 FAT32 LBA (type c), bootable" grep -qE 'img1 :.*type=c, bootable' "$work/table"
check "p2 Linux (type 83)" grep -qE 'img2 :.*type=83' "$work/table"
check "p3 Linux (type 83)" grep -qE 'img3 :.*type=83' "$work/table"
check "p1 starts 4 MiB in" test "${starts[0]}" = 8192
fat="$img@@$((starts[0] * 512))"
for i in 1 2; do
  dd if="$img" of="$work/p$((i + 1)).ext4" bs=512 skip="${starts[$i]}" count="${sizes[$i]}" conv=sparse status=none
done

echo "boot partition (FAT, mtools)"
check "FAT label RASPIFIRM" sh -c "mlabel -s -i '$fat' :: | grep -q RASPIFIRM"
mdir -b -i "$fat" ::/ >"$work/fat-list" 2>/dev/null
check "kernel (vmlinuz-*)" grep -q '^::/vmlinuz-' "$work/fat-list"
check "initrd (initrd.img-*)" grep -q '^::/initrd.img-' "$work/fat-list"
check "device tree $board_dtb" grep -qx "::/$board_dtb" "$work/fat-list"
check "GPU firmware start.elf and fixup.dat" sh -c "grep -qx ::/start.elf '$work/fat-list' && grep -qx ::/fixup.dat '$work/fat-list'"
check "torlk.toml template" grep -qx '::/torlk.toml' "$work/fat-list"
mtype -i "$fat" ::/config.txt >"$work/config.txt" 2>/dev/null
grep -vE '^\s*(#|$)' "$repo/hardware/design/config.txt" | while read -r line; do
  grep -qxF "$line" "$work/config.txt" && echo "  ok    config.txt: $line" || echo "  FAIL  config.txt: $line"
done | tee "$work/cfg-checks"
fails=$((fails + $(grep -c FAIL "$work/cfg-checks")))
mtype -i "$fat" ::/cmdline.txt >"$work/cmdline.txt" 2>/dev/null
check "cmdline.txt: root=LABEL=RASPIROOT" grep -q 'root=LABEL=RASPIROOT' "$work/cmdline.txt"
check "cmdline.txt: root read-only (ro)" grep -qw ro "$work/cmdline.txt"
initrd_mib=$(mdir -i "$fat" ::/ 2>/dev/null | awk '/initrd\.img-/ {print int($3/1048576)}' | head -n1)
echo "        (initrd ${initrd_mib:-?} MiB)"

echo "root partition (ext4, debugfs)"
root=$work/p2.ext4
dbg() { debugfs -R "$1" "$root" 2>/dev/null; }
check "ext4 label RASPIROOT" sh -c "blkid -p -o value -s LABEL '$root' | grep -qx RASPIROOT"
check "e2fsck clean" e2fsck -fn "$root"
check "data partition labelled TORLKDATA" sh -c "blkid -p -o value -s LABEL '$work/p3.ext4' | grep -qx TORLKDATA"
check "torlk.service enabled (multi-user.target.wants symlink)" sh -c "debugfs -R 'stat /etc/systemd/system/multi-user.target.wants/torlk.service' '$root' 2>/dev/null | grep -q 'Type: symlink'"
check "torlk-firstboot.service enabled" sh -c "debugfs -R 'stat /etc/systemd/system/sysinit.target.wants/torlk-firstboot.service' '$root' 2>/dev/null | grep -q 'Type: symlink'"
check "torlk-clock.service enabled" sh -c "debugfs -R 'stat /etc/systemd/system/sysinit.target.wants/torlk-clock.service' '$root' 2>/dev/null | grep -q 'Type: symlink'"
check "system tor.service masked" sh -c "debugfs -R 'stat /etc/systemd/system/tor.service' '$root' 2>/dev/null | grep -q 'Fast link dest: \"/dev/null\"'"
check "ssh not enabled" sh -c "! debugfs -R 'stat /etc/systemd/system/multi-user.target.wants/ssh.service' '$root' 2>/dev/null | grep -q symlink"
check "no ssh host keys baked in" sh -c "! debugfs -R 'ls /etc/ssh' '$root' 2>/dev/null | grep -q ssh_host_"
check "machine-id uninitialized" sh -c "debugfs -R 'cat /etc/machine-id' '$root' 2>/dev/null | grep -qx uninitialized"
check "root has no password" sh -c "debugfs -R 'cat /etc/shadow' '$root' 2>/dev/null | grep -qE '^root:[*!]*:'"
check "fstab: / read-only" sh -c "debugfs -R 'cat /etc/fstab' '$root' 2>/dev/null | grep -qE '^LABEL=RASPIROOT\s+/\s+ext4\s+ro'"
check "fstab: data partition on /var/lib/torlk" sh -c "debugfs -R 'cat /etc/fstab' '$root' 2>/dev/null | grep -qE '^LABEL=TORLKDATA\s+/var/lib/torlk\s+ext4'"
check "torlk user in gpio and audio" sh -c "debugfs -R 'cat /etc/group' '$root' 2>/dev/null | grep -E '^(gpio|audio):' | grep -c torlk | grep -qx 2"
check "firmware /opt/torlk/torlk.cjs" sh -c "debugfs -R 'stat /opt/torlk/torlk.cjs' '$root' 2>/dev/null | grep -q 'Type: regular'"
check "addon /opt/torlk/i2s-audio/prebuilds/$addon_prebuild" sh -c "debugfs -R 'stat /opt/torlk/i2s-audio/prebuilds/$addon_prebuild' '$root' 2>/dev/null | grep -q 'Type: regular'"
check "onoff's epoll addon" sh -c "debugfs -R 'stat /opt/torlk/node_modules/epoll/build/Release/epoll.node' '$root' 2>/dev/null | grep -q 'Type: regular'"
check "node and tor installed" sh -c "debugfs -R 'stat /usr/bin/node' '$root' 2>/dev/null | grep -q 'Type: regular' && debugfs -R 'stat /usr/bin/tor' '$root' 2>/dev/null | grep -q 'Type: regular'"
check "no second kernel/initrd copy in /boot" sh -c "! debugfs -R 'ls /boot' '$root' 2>/dev/null | grep -qE 'initrd.img-|vmlinuz-'"

if dbg 'stat /etc/systemd/system/torlk.service.d/watchdog.conf' | grep -q 'Type: regular'; then
  echo "  info  watchdog drop-in installed (Type=notify, WatchdogSec=90)"
else
  echo "  info  no watchdog drop-in: the firmware bundle does not use systemd-notify"
fi
[ "$fails" = 0 ] && echo "inspect: all checks passed" || echo "inspect: $fails check(s) FAILED"
[ "$fails" = 0 ]
