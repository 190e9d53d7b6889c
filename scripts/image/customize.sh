#!/usr/bin/env bash
# Stage 2 of the image build (fast, redone every build): put Torlk into a copy of the cached root.
#   scripts/image/customize.sh ROOTDIR BOARD STAGING
# STAGING holds what the build prepared: torlk.cjs, i2s-audio/ (the addon prebuild for the board),
# node_modules/ (onoff and its native epoll, built for the board).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
root=${1:?rootdir}
board=${2:?board}
staging=${3:?staging dir}
# shellcheck source=board.sh
. "$here/board.sh" "$board"
step() { echo "customize: $*" >&2; }
in_root() { chroot "$root" "$@"; }

step "system files (units, fstab, network, journald, udev, presets)"
cp -a "$here/overlay/." "$root/"
chown -R 0:0 "$root/etc/systemd" "$root/usr/lib/torlk" "$root/etc/udev/rules.d" "$root/etc/ssh/sshd_config.d"

step "the torlk user (groups gpio and audio) and the data directory mount point"
in_root getent group gpio >/dev/null || in_root groupadd --system gpio
in_root getent passwd torlk >/dev/null ||
  in_root useradd --system --user-group --home-dir /var/lib/torlk --no-create-home --shell /usr/sbin/nologin --groups gpio,audio torlk
# State directories that units create at start cannot be created on a read-only root: make them
# here (logind's linger directory stays empty; timesyncd's gets the data partition bind mount).
mkdir -p "$root/var/lib/torlk" "$root/boot/firmware" "$root/var/lib/systemd/timesync" "$root/var/lib/systemd/linger"

step "firmware under /opt/torlk"
rm -rf "$root/opt/torlk"
mkdir -p "$root/opt/torlk"
cp "$staging/torlk.cjs" "$root/opt/torlk/torlk.cjs"
cp -a "$staging/i2s-audio" "$staging/node_modules" "$root/opt/torlk/"
cp "$repo/hardware/image.md" "$root/opt/torlk/README-image.md" 2>/dev/null || true
rm -rf "$root/etc/systemd/system/torlk.service.d"
if grep -q 'systemd-notify' "$staging/torlk.cjs"; then
  mkdir -p "$root/etc/systemd/system/torlk.service.d"
  cp "$here/watchdog.conf" "$root/etc/systemd/system/torlk.service.d/watchdog.conf"
  step "watchdog: the firmware speaks sd_notify; Type=notify, WatchdogSec=90"
else
  step "WARNING: the firmware bundle does not use systemd-notify: torlk.service gets no watchdog (restart on failure only)"
fi
printf '#!/bin/sh\nexec /usr/bin/node /opt/torlk/torlk.cjs "$@"\n' >"$root/usr/local/bin/torlk"
chmod 0755 "$root/usr/local/bin/torlk"
chown -R 0:0 "$root/opt/torlk"
chmod -R u=rwX,go=rX "$root/opt/torlk"

step "services: torlk on, system tor and SSH off, no apt timers on a read-only root"
systemctl --root="$root" enable torlk.service torlk-firstboot.service torlk-clock.service torlk-clock-save.timer \
  systemd-networkd.service systemd-resolved.service systemd-timesyncd.service >&2
systemctl --root="$root" disable tor.service ssh.service ssh.socket >&2 2>/dev/null || true
systemctl --root="$root" mask tor.service >&2
# networkd's persistent state needs a writable /var/lib/systemd/network; it keeps running state in /run.
systemctl --root="$root" mask systemd-networkd-persistent-storage.service >&2
for t in apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer dpkg-db-backup.timer; do
  systemctl --root="$root" disable "$t" >&2 2>/dev/null || true
done
# wpa_supplicant@wlan0 is enabled by first boot once there is a network to join.
systemctl --root="$root" disable wpa_supplicant.service >&2 2>/dev/null || true
# ConditionFirstBoot stays usable, and sshd-keygen is handled by torlk-firstboot.
echo uninitialized >"$root/etc/machine-id"
rm -f "$root"/etc/ssh/ssh_host_*
# Debian's node loads the system CA bundle at every start and warns when it is missing; Torlk uses
# no TLS (tor does its own), so an empty bundle beats pulling in ca-certificates and openssl.
mkdir -p "$root/etc/ssl/certs"
[ -e "$root/etc/ssl/certs/ca-certificates.crt" ] || : >"$root/etc/ssl/certs/ca-certificates.crt"
# The clock never starts before the build (systemd moves it to this file's mtime at boot).
touch "$root/usr/lib/clock-epoch"

step "boot partition: config.txt hardware lines, read-only root, torlk.toml template"
fw=$root/boot/firmware
sed -i 's/\(^\| \)rw\( \|$\)/\1ro\2/' "$fw/cmdline.txt"
# A serial console on the header's UART (the mini UART, ttyS1 with the upstream device tree).
grep -q 'console=ttyS1' "$fw/cmdline.txt" || sed -i 's/console=tty0/console=tty0 console=ttyS1,115200/' "$fw/cmdline.txt"
grep -q ' ro ' "$fw/cmdline.txt" || { echo "customize: cannot make the root read-only in cmdline.txt: $(cat "$fw/cmdline.txt")" >&2; exit 1; }
if ! grep -q 'Torlk hardware' "$fw/config.txt"; then
  { echo; cat "$repo/hardware/design/config.txt"; } >>"$fw/config.txt"
fi
cp "$here/boot/torlk.toml" "$fw/torlk.toml"

step "boot partition: the sound card overlay (hardware/design/torlk-i2s.dts) as overlays/torlk-i2s.dtbo"
# The Pi firmware applies `dtoverlay=torlk-i2s` from overlays/ (Debian's config.txt sets no
# os_prefix/overlay_prefix, and there is no upstream/ directory, so upstream_kernel=1 changes nothing
# there). -@ keeps the overlay's own labels, as the firmware's loader expects.
command -v dtc >/dev/null || { echo "customize: dtc missing: run scripts/setup --image (device-tree-compiler)" >&2; exit 1; }
mkdir -p "$fw/overlays"
dtc -@ -I dts -O dtb -o "$fw/overlays/torlk-i2s.dtbo" "$repo/hardware/design/torlk-i2s.dts"
grep -qx 'dtoverlay=torlk-i2s' "$fw/config.txt" || { echo "customize: config.txt lacks dtoverlay=torlk-i2s (hardware/design/config.txt)" >&2; exit 1; }
# The overlay needs these drivers; Debian's armel linux-image-rpi builds none of the last three.
kconfig=$(ls "$root"/boot/config-* 2>/dev/null | head -n1)
for opt in SND_BCM2835_SOC_I2S SND_SIMPLE_CARD SND_SOC_MAX98357A SND_SOC_DMIC; do
  [ -n "$kconfig" ] && grep -qE "^CONFIG_$opt=[ym]" "$kconfig" ||
    step "WARNING: the kernel lacks CONFIG_$opt: no sound card on this board's image (hardware/image.md)"
done
