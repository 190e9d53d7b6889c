#!/usr/bin/env bash
# mmdebstrap customize hook (stage 1, cached): make the packages' boot files right for a card and
# cut what a headless Pi Zero radio never uses, so the .img.xz stays small.
#   trim-and-boot.sh ROOTDIR BOARD
set -euo pipefail
root=${1:?rootdir}
board=${2:?board}
here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=../board.sh
. "$here/board.sh" "$board"
step() { echo "rootfs hook: $*" >&2; }

step "raspi-firmware: root by label (inside a chroot it would take the build host's root)"
sed -i '/^#\?ROOTPART=/d' "$root/etc/default/raspi-firmware"
echo 'ROOTPART=LABEL=RASPIROOT' >>"$root/etc/default/raspi-firmware"

kvers=$(ls "$root/usr/lib/modules")
step "kernel modules: drop drivers a Pi Zero cannot carry ($kvers)"
for kver in $kvers; do
  k=$root/usr/lib/modules/$kver/kernel
  # No display, camera, SATA, NVMe, PCIe NICs, InfiniBand, Bluetooth or staging drivers on the radio.
  # sound/drivers stays (small): snd-aloop stands in for the I2S codec in the QEMU boot test.
  for d in drivers/gpu drivers/media drivers/infiniband drivers/net/ethernet drivers/staging \
    drivers/isdn drivers/iio drivers/nvme drivers/ata drivers/target drivers/thunderbolt \
    drivers/hwtracing drivers/crypto drivers/accel drivers/fpga drivers/bluetooth net/bluetooth \
    drivers/input/touchscreen drivers/input/joystick drivers/scsi/lpfc drivers/scsi/qla2xxx \
    drivers/scsi/mpt3sas drivers/scsi/megaraid drivers/scsi/be2iscsi drivers/scsi/bfa \
    drivers/net/can drivers/net/wwan drivers/net/dsa drivers/md drivers/remoteproc \
    sound/pci sound/firewire sound/isa fs/btrfs fs/xfs fs/ocfs2 fs/nfs fs/nfsd \
    fs/ceph fs/smb fs/gfs2 fs/f2fs fs/jfs fs/nilfs2 fs/bcachefs; do
    rm -rf "${k:?}/$d"
  done
  # Wi-Fi: only Broadcom (the Zeros' brcmfmac) and USB dongles stay.
  find "$k/drivers/net/wireless" -mindepth 1 -maxdepth 1 ! -name broadcom -exec rm -rf {} + 2>/dev/null || true
  chroot "$root" depmod "$kver"
done

step "firmware: keep only the Zeros' Wi-Fi chips (BCM43430/43436)"
for d in brcm cypress; do
  [ -d "$root/usr/lib/firmware/$d" ] || continue
  find "$root/usr/lib/firmware/$d" -mindepth 1 ! -name '*4343*' -delete
done

step "dtbs: keep $board_dtb $extra_dtbs"
keep_dtb() { case " $board_dtb $extra_dtbs " in *" $1 "*) return 0 ;; esac; return 1; }
for kdir in "$root"/usr/lib/linux-image-*; do
  [ -d "$kdir" ] || continue
  find "$kdir" -name '*.dtb' | while read -r f; do keep_dtb "$(basename "$f")" || rm -f "$f"; done
  find "$kdir" -type d -empty -delete
done

step "initramfs: rebuild for the trimmed modules, then let raspi-firmware fill /boot/firmware"
chroot "$root" update-initramfs -u -k all >&2
for kver in $kvers; do chroot "$root" /etc/kernel/postinst.d/z50-raspi-firmware "$kver" >&2; done
for f in "$root"/boot/firmware/*.dtb; do keep_dtb "$(basename "$f")" || rm -f "$f"; done
# The Pi 4/5 GPU firmware is never loaded by a Zero.
rm -f "$root"/boot/firmware/start4* "$root"/boot/firmware/fixup4*
grep -q 'root=LABEL=RASPIROOT' "$root/boot/firmware/cmdline.txt" || {
  echo "rootfs hook: cmdline.txt lacks root=LABEL=RASPIROOT: $(cat "$root/boot/firmware/cmdline.txt")" >&2
  exit 1
}
[ -f "$root/boot/firmware/$board_dtb" ] || { echo "rootfs hook: $board_dtb missing from /boot/firmware" >&2; exit 1; }

step "one copy of the kernel and initrd: the FAT's (the root is read-only and never upgraded in place)"
rm -f "$root"/boot/initrd.img-* "$root"/boot/vmlinuz-*
rm -rf "$root"/var/cache/apt/* "$root"/var/lib/apt/lists/*
