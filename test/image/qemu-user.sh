#!/usr/bin/env bash
# Runs the image's own node on the installed firmware under qemu-user (binfmt), no mounting: the
# root partition is extracted with debugfs rdump, then `torlk --version` and `torlk selftest`
# (capture from an ALSA file PCM, encode one clip with the board's addon) run in a chroot of it.
#   test/image/qemu-user.sh IMAGE BOARD
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
img=${1:?image} board=${2:?board}
# shellcheck source=../../scripts/image/board.sh
. "$repo/scripts/image/board.sh" "$board"
work=$(mktemp -d "${TMPDIR:-/tmp}/torlk-qemu-user-XXXXXX")
trap 'rm -rf "$work"' EXIT
start=$(sfdisk --dump "$img" | sed -n 's/.*img2 : start= *\([0-9]*\), size= *\([0-9]*\).*/\1 \2/p')
read -r s n <<<"$start"
dd if="$img" of="$work/root.ext4" bs=512 skip="$s" count="$n" conv=sparse status=none
mkdir "$work/root"
debugfs -R "rdump / $work/root" "$work/root.ext4" 2>/dev/null
rm -f "$work/root.ext4"
mkdir -p "$work/root/tmp" "$work/root/dev"
chmod 1777 "$work/root/tmp"
mknod -m 666 "$work/root/dev/null" c 1 3
mknod -m 666 "$work/root/dev/urandom" c 1 9
# ALSA's null plugin reads /dev/full for capture.
mknod -m 666 "$work/root/dev/full" c 1 7
mknod -m 666 "$work/root/dev/zero" c 1 5
export QEMU_CPU=$qemu_cpu
echo "qemu-user: QEMU_CPU=$QEMU_CPU ($debian_arch)"
t0=$(date +%s%N)
ver=$(chroot "$work/root" /usr/bin/node /opt/torlk/torlk.cjs --version 2>"$work/stderr") || { cat "$work/stderr"; echo "qemu-user: FAIL: torlk --version"; exit 1; }
[ ! -s "$work/stderr" ] || { cat "$work/stderr"; echo "qemu-user: FAIL: torlk --version wrote to stderr"; exit 1; }
echo "qemu-user: torlk --version -> $ver ($((($(date +%s%N) - t0) / 1000000)) ms)"
want=$(node -p 'require("'"$repo"'/package.json").version')
[ "$ver" = "$want" ] || { echo "qemu-user: FAIL: expected version $want"; exit 1; }
t0=$(date +%s%N)
out=$(chroot "$work/root" /usr/bin/node /opt/torlk/torlk.cjs selftest --out /tmp/clip.opus 2>&1) || { echo "$out"; echo "qemu-user: FAIL: torlk selftest"; exit 1; }
echo "qemu-user: $out ($((($(date +%s%N) - t0) / 1000000)) ms)"
case "$out" in *"node v20."*" $( [ "$debian_arch" = arm64 ] && echo arm64 || echo arm)"*) ;; *) echo "qemu-user: FAIL: not the image's node on $debian_arch"; exit 1 ;; esac
# The clip the image's addon made must satisfy the reference tools on the host.
opusinfo "$work/root/tmp/clip.opus" >"$work/opusinfo" 2>&1 || { cat "$work/opusinfo"; echo "qemu-user: FAIL: opusinfo rejects the clip"; exit 1; }
! grep -qiE 'warning|error' "$work/opusinfo" || { cat "$work/opusinfo"; echo "qemu-user: FAIL: opusinfo warnings"; exit 1; }
echo "qemu-user: opusinfo accepts the clip ($(stat -c %s "$work/root/tmp/clip.opus") bytes)"
# onoff loads its cross-built native epoll into the image's node (no GPIO here: accessible is false).
gpio=$(chroot "$work/root" /usr/bin/node -e 'const { Gpio } = require("/opt/torlk/node_modules/onoff"); process.stdout.write(typeof Gpio.accessible)' 2>&1) ||
  { echo "$gpio"; echo "qemu-user: FAIL: onoff/epoll does not load in the image's node"; exit 1; }
[ "$gpio" = boolean ] || { echo "qemu-user: FAIL: onoff loaded oddly: $gpio"; exit 1; }
echo "qemu-user: onoff and its epoll addon load in the image's node"
if [ "$debian_arch" = armel ]; then
  # Proof that QEMU_CPU reaches the emulator: on an ARMv5 CPU Debian's armel node must die (SIGILL).
  if QEMU_CPU=arm926 chroot "$work/root" /usr/bin/node -e 0 2>/dev/null; then
    echo "qemu-user: FAIL: node ran on an emulated ARM926 (ARMv5): QEMU_CPU is not honoured, the ARM1176 result proves nothing"; exit 1
  fi
  echo "qemu-user: as expected, node dies on ARMv5 (arm926): the ARM1176 run was on an ARMv6 CPU"
fi
echo "qemu-user: all checks passed"
