#!/usr/bin/env bash
# Boots a zero2w image in qemu-system-aarch64 -M raspi3b (the Zero 2 W's SoC family) and waits on
# the serial console until the firmware logs that it is running and shows its LED state. The
# firmware's stderr goes to the console (torlk.service: StandardError=journal+console).
#   test/image/boot-qemu.sh IMAGE [TIMEOUT_SECONDS]      (default 1200: a starved CPU is slow)
# Like a user, the test first writes a contact and a channel into the card's torlk.toml (on a
# sparse copy of the image; the built image is not changed): the radio refuses to run without one.
# QEMU's raspi3b has no I2S codec, so the kernel command line loads snd-aloop under the codec's
# card name (torlk, from the torlk-i2s overlay): the firmware opens "its" microphone and amplifier on a virtual card.
# Patterns (extended regexes on the console log), overridable:
#   TORLK_BOOT_RUNNING  default 'torlk radio: on "'   the firmware is up (its start line)
#   TORLK_BOOT_LED      default '"led"'               an LED state line
# Then a power cut (SIGKILL QEMU) while the radio runs: FAT and root must be fsck-clean, the data
# partition clean after journal replay with the keys kept; then the cut card boots again and the
# radio comes back without redoing first boot (TORLK_BOOT_ONCE=1 skips that second boot).
# The console logs are kept in out/boot-<image name>.log and out/boot-<image name>-after-cut.log.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
img=${1:?image}
timeout=${2:-1200}
running=${TORLK_BOOT_RUNNING:-'torlk radio: on "'}
led=${TORLK_BOOT_LED:-'"led"'}
log=$repo/out/boot-$(basename "${img%.img}").log
work=$(mktemp -d "${TMPDIR:-/tmp}/torlk-boot-XXXXXX")
qpid=''
cleanup() {
  if [ -n "$qpid" ] && kill -0 "$qpid" 2>/dev/null; then
    kill -TERM "$qpid" 2>/dev/null || true
    for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$qpid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$qpid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

start=$(sfdisk --dump "$img" | sed -n 's/.*img1 : start= *\([0-9]*\),.*/\1/p')
fat="$img@@$((start * 512))"
kernel=$(mdir -b -i "$fat" ::/ | grep '^::/vmlinuz-' | head -n1)
initrd=$(mdir -b -i "$fat" ::/ | grep '^::/initrd.img-' | head -n1)
mcopy -i "$fat" "$kernel" "$work/vmlinuz"
mcopy -i "$fat" "$initrd" "$work/initrd"
mcopy -i "$fat" ::/bcm2837-rpi-3-b.dtb "$work/board.dtb"
# QEMU wants an SD card whose size is a power of two; the copy is sparse.
cp --sparse=always "$img" "$work/sd.img"
truncate -s 2G "$work/sd.img"
cmdline=$(mtype -i "$fat" ::/cmdline.txt | tr -d '\r\n' | sed 's/console=[^ ]*//g')
cmdline="console=ttyS1,115200 $cmdline modules_load=snd_aloop snd_aloop.id=torlk"

# A peer made on this machine with the same firmware; its card goes into the image's torlk.toml.
torlk=(node "$repo/dist/torlk.cjs")
"${torlk[@]}" init --data "$work/peer" --config "$work/peer.toml" --name "QEMU peer" >/dev/null
card=$("${torlk[@]}" card --no-qr --data "$work/peer" --config "$work/peer.toml" | grep -m1 '^torlk:')
sd_fat="$work/sd.img@@$((start * 512))"
mtype -i "$sd_fat" ::/torlk.toml | tr -d '\r' >"$work/torlk.toml"
sed -i 's/^# name = .*/name = "QEMU radio"/' "$work/torlk.toml"
"${torlk[@]}" contact add "$card" --channel test --data "$work/peer" --config "$work/torlk.toml" >/dev/null
grep -q '^channel = "test"' "$work/torlk.toml" || { echo "boot: FAIL: torlk contact add did not set the channel"; exit 1; }
mcopy -o -i "$sd_fat" "$work/torlk.toml" ::/torlk.toml
echo "boot: qemu-system-aarch64 -M raspi3b, cmdline: $cmdline (timeout ${timeout}s, log $log)"
mkdir -p "$(dirname "$log")"
: >"$log"
start_qemu() { # $1: console log file
  qemu-system-aarch64 -M raspi3b -m 1G -kernel "$work/vmlinuz" -initrd "$work/initrd" -dtb "$work/board.dtb" \
    -append "$cmdline" -drive "file=$work/sd.img,if=sd,format=raw" \
    -display none -serial null -serial "file:$1" -monitor none -nic none &
  qpid=$!
}
start_qemu "$log"
t0=$(date +%s)
seen_running='' seen_led='' failures=()
while :; do
  now=$(date +%s)
  el=$((now - t0))
  if [ -z "$seen_running" ] && grep -aqE "$running" "$log"; then seen_running=$el; echo "boot: firmware running after ${el}s"; fi
  if [ -z "$seen_led" ] && grep -aqE "$led" "$log"; then seen_led=$el; echo "boot: LED state in the log after ${el}s: $(grep -aE "$led" "$log" | head -n1 | cut -c1-160)"; fi
  [ -n "$seen_running" ] && [ -n "$seen_led" ] && break
  kill -0 "$qpid" 2>/dev/null || { echo "boot: FAIL: qemu exited early"; tail -n 30 "$log"; exit 1; }
  if [ -n "$seen_running" ] && [ -z "$seen_led" ] && [ $((el - seen_running)) -ge 120 ]; then
    failures+=("the firmware runs but logged no LED state ($led) within 120 s of starting")
    break
  fi
  if [ "$el" -ge "$timeout" ]; then
    echo "boot: FAIL: no firmware-running line ($running) and LED line ($led) within ${timeout}s; last console lines:"
    tail -n 40 "$log"
    exit 1
  fi
  sleep 2
done
grep -aE 'torlk-firstboot:|clock: set' "$log" | head -n 20 || true
# A unit that failed on the way (read-only root surprises) fails the test too.
if grep -aq 'Failed to start' "$log"; then
  failures+=("units failed during boot: $(grep -a 'Failed to start' "$log" | sed 's/\x1b\[[0-9;]*m//g; s/.*Failed to start //' | sort -u | paste -sd, -)")
fi

# Power cut while the radio runs: SIGKILL QEMU (the card gets no shutdown), then check the card.
# Root and boot partition must be clean as they are (read-only in running); the data partition may
# need its journal replayed (on a copy) and must then be clean with the radio's keys in place.
echo "boot: power cut (SIGKILL qemu) while the radio runs"
kill -KILL "$qpid"
wait "$qpid" 2>/dev/null || true
qpid=''
dump=$(sfdisk --dump "$work/sd.img")
part() { sed -n "s/.*sd.img$1 : start= *\([0-9]*\), size= *\([0-9]*\).*/\1 \2/p" <<<"$dump"; }
read -r s1 n1 <<<"$(part 1)"; read -r s2 n2 <<<"$(part 2)"; read -r s3 n3 <<<"$(part 3)"
dd if="$work/sd.img" of="$work/p1" bs=512 skip="$s1" count="$n1" conv=sparse status=none
dd if="$work/sd.img" of="$work/p2" bs=512 skip="$s2" count="$n2" conv=sparse status=none
dd if="$work/sd.img" of="$work/p3" bs=512 skip="$s3" count="$n3" conv=sparse status=none
if fsck.fat -n "$work/p1" >"$work/fsck1" 2>&1; then echo "boot: boot partition clean after the cut"; else failures+=("FAT boot partition damaged by the power cut: $(tail -n 3 "$work/fsck1" | paste -sd' ' -)"); fi
if e2fsck -fn "$work/p2" >"$work/fsck2" 2>&1; then echo "boot: root clean after the cut (it was read-only)"; else failures+=("root damaged by the power cut: $(tail -n 3 "$work/fsck2" | paste -sd' ' -)"); fi
e2fsck -fy "$work/p3" >"$work/fsck3" 2>&1 || true # replays the journal, as the next boot would
if e2fsck -fn "$work/p3" >"$work/fsck3b" 2>&1; then echo "boot: data partition clean after journal replay"; else failures+=("data partition damaged by the power cut: $(tail -n 3 "$work/fsck3b" | paste -sd' ' -)"); fi
if debugfs -R 'ls /' "$work/p3" 2>/dev/null | grep -q 'age-identity.txt'; then echo "boot: the radio's keys survived the cut"; else failures+=("the radio's keys are missing from the data partition after the cut"); fi
echo "boot: data partition grown to $(( $(debugfs -R stats "$work/p3" 2>/dev/null | sed -n 's/^Block count: *//p') * 4 / 1024 )) MiB"

# Boot the cut card again: the kernel replays the data journal and the radio comes back.
if [ -z "${TORLK_BOOT_ONCE:-}" ]; then
  log2=${log%.log}-after-cut.log
  : >"$log2"
  echo "boot: booting the card again after the power cut (console: $log2)"
  start_qemu "$log2"
  t1=$(date +%s)
  while ! grep -aqE "$running" "$log2"; do
    kill -0 "$qpid" 2>/dev/null || { failures+=("qemu exited during the boot after the power cut"); break; }
    if [ $(($(date +%s) - t1)) -ge "$timeout" ]; then failures+=("the radio did not come back within ${timeout}s after the power cut"); break; fi
    sleep 2
  done
  if grep -aqE "$running" "$log2"; then
    echo "boot: after the power cut the firmware runs again after $(($(date +%s) - t1))s (second boot: nothing to apply, keys kept)"
    grep -aE 'torlk-firstboot:|clock: set' "$log2" | head -n 5 || true
    grep -aq 'Failed to start' "$log2" && failures+=("units failed in the boot after the cut: $(grep -a 'Failed to start' "$log2" | sed 's/\x1b\[[0-9;]*m//g; s/.*Failed to start //' | sort -u | paste -sd, -)")
    grep -aq 'creating this radio' "$log2" && failures+=("the keys were made again after the power cut")
  fi
  kill -TERM "$qpid" 2>/dev/null || true
fi

if [ ${#failures[@]} -gt 0 ]; then
  printf 'boot: FAIL: %s\n' "${failures[@]}"
  exit 1
fi
echo "boot: passed in ${seen_running}s (QEMU start to firmware running)"
