#!/usr/bin/env bash
# Assembles the card image from a root directory without mounting anything (mkfs -d / mcopy /
# sfdisk on plain files), so it runs without loop devices:
#   p1 FAT32 RASPIFIRM  256 MiB   /boot/firmware (firmware, kernel, initrd, dtbs, config.txt, torlk.toml)
#   p2 ext4  RASPIROOT  sized to the root + headroom, mounted read-only
#   p3 ext4  TORLKDATA  64 MiB, grown to the card's end on first boot; keys, outbox, inbox, clock
#   scripts/image/assemble.sh ROOTDIR IMAGE
set -euo pipefail
root=${1:?rootdir}
img=${2:?image}
boot_mib=256 data_mib=64 start_mib=4
work=$(mktemp -d "$(dirname "$img")/assemble-XXXXXX")
restore_fw() { if [ -d "$work/fw" ]; then rmdir "$root/boot/firmware" 2>/dev/null || true; mv "$work/fw" "$root/boot/firmware"; fi; }
trap 'restore_fw; rm -rf "$work"' EXIT

echo "assemble: FAT boot partition" >&2
mkfs.vfat -F 32 -n RASPIFIRM -S 512 -C "$work/boot.vfat" $((boot_mib * 1024)) >/dev/null
mcopy -s -p -m -i "$work/boot.vfat" "$root"/boot/firmware/* ::

echo "assemble: ext4 root" >&2
# The boot partition's files stay out of the root (it is mounted over /boot/firmware).
mv "$root/boot/firmware" "$work/fw"
mkdir "$root/boot/firmware"
used_mib=$(du -s --block-size=1M "$root" | cut -f1)
root_mib=$((used_mib * 110 / 100 + 48))
mkfs.ext4 -q -F -L RASPIROOT -d "$root" -E root_owner=0:0 "$work/root.ext4" "${root_mib}M"
restore_fw

echo "assemble: ext4 data partition" >&2
uid=$(awk -F: '$1=="torlk"{print $3}' "$root/etc/passwd")
gid=$(awk -F: '$1=="torlk"{print $3}' "$root/etc/group")
[ -n "$uid" ] && [ -n "$gid" ] || { echo "assemble: no torlk user in $root/etc/passwd" >&2; exit 1; }
tsuid=$(awk -F: '$1=="systemd-timesync"{print $3":"$4}' "$root/etc/passwd")
[ -n "$tsuid" ] || { echo "assemble: no systemd-timesync user in $root/etc/passwd" >&2; exit 1; }
# The radio's directory, plus timesyncd's state (bind-mounted over /var/lib/systemd/timesync: the
# root is read-only and timesyncd cannot start without a writable state directory).
mkdir -m 0700 "$work/data"
mkdir -m 0755 "$work/data/.timesync"
chown "$uid:$gid" "$work/data"
chown "$tsuid" "$work/data/.timesync"
# 4 KiB blocks: the 64 MiB partition grows to the whole card on first boot.
mkfs.ext4 -q -F -L TORLKDATA -b 4096 -d "$work/data" "$work/data.ext4" "${data_mib}M"
e2fsck -fn "$work/root.ext4" >/dev/null || { echo "assemble: e2fsck found errors in the root filesystem" >&2; exit 1; }

echo "assemble: partition table" >&2
s=2048 # sectors per MiB
p1=$((start_mib * s)) p1n=$((boot_mib * s))
p2=$((p1 + p1n)) p2n=$((root_mib * s))
p3=$((p2 + p2n)) p3n=$((data_mib * s))
rm -f "$img"
truncate -s $(((p3 + p3n) * 512)) "$img"
sfdisk --quiet "$img" <<TABLE
label: dos
start=$p1, size=$p1n, type=c, bootable
start=$p2, size=$p2n, type=83
start=$p3, size=$p3n, type=83
TABLE
dd if="$work/boot.vfat" of="$img" bs=1M seek=$start_mib conv=notrunc,sparse status=none
dd if="$work/root.ext4" of="$img" bs=1M seek=$((start_mib + boot_mib)) conv=notrunc,sparse status=none
dd if="$work/data.ext4" of="$img" bs=1M seek=$((start_mib + boot_mib + root_mib)) conv=notrunc,sparse status=none
echo "assemble: $(du -h --apparent-size "$img" | cut -f1) image, root ${root_mib} MiB (${used_mib} MiB used)" >&2
