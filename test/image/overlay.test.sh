#!/usr/bin/env bash
# Checks Torlk's sound-card overlay (hardware/design/torlk-i2s.dts) against what Debian ships for a
# board, as far as it can be checked without a Pi (QEMU has no I2S):
#   1. it compiles (dtc -@) and applies (fdtoverlay) to the board's upstream dtb from the image;
#   2. the merged tree has the I2S controller on, with GPIO18-21 in ALT0 and #sound-dai-cells, and a
#      simple-audio-card "torlk" whose two links point at the controller and at a MAX98357A (SD_MODE
#      on GPIO16) and a dmic-codec, the Pi as bit and frame clock master, 2 x 32-bit slots;
#   3. the board's kernel has the drivers (kernel config, the .ko files Debian's package ships and
#      the ones left on the image after trimming, their OF aliases match the overlay's compatibles);
#   4. with an image: the built .dtbo is on the FAT in overlays/ and config.txt says dtoverlay=torlk-i2s;
#   5. the checks can fail: broken copies of the overlay must be caught.
# Also: nothing else enabled in the merged tree claims GPIO16-21, and GPIO17/27 (button, LED) stay free.
#   test/image/overlay.test.sh BOARD [IMAGE]
# Without IMAGE, the cached Debian root of the board (out/cache/rootfs-BOARD-*) is used.
# Prints one "ok"/"FAIL"/"gap" line per check and exits 1 on any FAIL. A "gap" is a documented,
# expected limit of Debian's kernel (hardware/image.md), and fails if it is no longer true.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
board=${1:?usage: overlay.test.sh zero2w|zerow [IMAGE]}
img=${2:-}
# shellcheck source=../../scripts/image/board.sh
. "$repo/scripts/image/board.sh" "$board" || exit 2
dts=$repo/hardware/design/torlk-i2s.dts
for t in dtc fdtoverlay fdtget debugfs mcopy sfdisk strings node /sbin/modinfo; do
  command -v "$t" >/dev/null || { echo "overlay test: $t missing (scripts/setup --image)" >&2; exit 2; }
done
work=$(mktemp -d "${TMPDIR:-/tmp}/torlk-overlay-XXXXXX")
trap 'rm -rf "$work"' EXIT
fails=0
ok() { echo "  ok    $*"; }
bad() { echo "  FAIL  $*"; fails=$((fails + 1)); }
check() { local what=$1; shift; if "$@" >/dev/null 2>&1; then ok "$what"; else bad "$what"; fi; }

# --- where the board's files come from: the image (no mounting) or the cached root directory ---
if [ -n "$img" ]; then
  [ -f "$img" ] || { echo "overlay test: no image $img" >&2; exit 2; }
  sfdisk --dump "$img" >"$work/table" || { echo "overlay test: sfdisk cannot read $img" >&2; exit 2; }
  starts=($(sed -n 's/.*start= *\([0-9]*\),.*/\1/p' "$work/table"))
  sizes=($(sed -n 's/.*size= *\([0-9]*\),.*/\1/p' "$work/table"))
  fat="$img@@$((starts[0] * 512))"
  dd if="$img" of="$work/root.ext4" bs=512 skip="${starts[1]}" count="${sizes[1]}" conv=sparse status=none
  boot_get() { mcopy -n -i "$fat" "::/$1" "$2" 2>/dev/null; }
  root_get() { debugfs -R "dump $1 $2" "$work/root.ext4" 2>/dev/null && [ -s "$2" ]; }
  # Names in a root directory, one a line.
  root_ls() { debugfs -R "ls -p $1" "$work/root.ext4" 2>/dev/null | awk -F/ 'NF > 5 && $6 != "." && $6 != ".." {print $6}'; }
  source_name="image $img"
else
  rootdir=$(ls -d "$repo"/out/cache/rootfs-"$board"-* 2>/dev/null | grep -v '\.partial$' | tail -n1)
  [ -n "$rootdir" ] || { echo "overlay test: no image given and no cached root out/cache/rootfs-$board-*: build one (scripts/build-image --board $board)" >&2; exit 2; }
  boot_get() { cp "$rootdir/boot/firmware/$1" "$2" 2>/dev/null; }
  root_get() { cp "$rootdir$1" "$2" 2>/dev/null; }
  root_ls() { ls -1 "$rootdir$1" 2>/dev/null; }
  source_name="cached root $rootdir"
fi
echo "overlay test: $board ($board_dtb) from $source_name"

echo "1. compile and apply"
if ! dtc -@ -I dts -O dtb -o "$work/torlk-i2s.dtbo" "$dts" 2>"$work/dtc.log"; then
  cat "$work/dtc.log"; bad "dtc -@ compiles $dts"; echo "overlay test: FAILED"; exit 1
fi
ok "dtc -@ compiles torlk-i2s.dts ($(stat -c %s "$work/torlk-i2s.dtbo") bytes)"
boot_get "$board_dtb" "$work/base.dtb" || { bad "$board_dtb on the boot partition"; echo "overlay test: FAILED"; exit 1; }
check "base $board_dtb carries __symbols__ (the firmware needs them to apply overlays)" fdtget "$work/base.dtb" /__symbols__ i2s
# Evidence, not proof, that this GPU firmware applies dtoverlay= from overlays/ with upstream_kernel:
# its config parser knows those words (only a board shows the overlay applied).
if boot_get start.elf "$work/start.elf"; then
  strings "$work/start.elf" >"$work/start.strings"
  check "start.elf knows dtoverlay, upstream_kernel and the overlays/ prefix" sh -c "grep -qx dtoverlay '$work/start.strings' && grep -qx upstream_kernel '$work/start.strings' && grep -qx overlays/ '$work/start.strings'"
else
  bad "start.elf on the boot partition"
fi
check "base tree leaves the I2S controller disabled (why the overlay is needed)" sh -c "[ \"\$(fdtget '$work/base.dtb' /soc/i2s@7e203000 status)\" = disabled ]"

# The merged-tree checks, as a function so that broken overlays can be run through them too.
# Prints its own ok/FAIL lines; returns the number of failures.
check_merged() {
  local m=$1 n=0
  c() { local what=$1; shift; if "$@" >/dev/null 2>&1; then echo "  ok    $what"; else echo "  FAIL  $what"; n=$((n + 1)); fi; }
  g() { fdtget "$m" "$@" 2>/dev/null; }
  # A phandle property's target, as the node's path (via __symbols__ labels' phandles).
  ph() { g "$1" phandle; }
  local i2s=/soc/i2s@7e203000 pins gpio snd=/sound-torlk
  pins=$(g /__symbols__ pcm_gpio18) gpio=$(g /__symbols__ gpio)
  c "I2S controller enabled (status okay)" test "$(g $i2s status)" = okay
  c "I2S controller is a sound DAI (#sound-dai-cells = 0)" test "$(g $i2s '#sound-dai-cells')" = 0
  c "I2S pinctrl-0 is pcm_gpio18 ($pins)" test "$(g $i2s pinctrl-0)" = "$(ph "$pins")"
  c "pcm_gpio18 is GPIO18-21 in ALT0" test "$(g "$pins" brcm,pins) / $(g "$pins" brcm,function)" = "18 19 20 21 / 4"
  c "I2S still has its DMA channels (tx, rx)" test "$(g $i2s dma-names)" = "tx rx"
  # BCM2835_CLOCK_PCM is 31 in dt-bindings/clock/bcm2835.h: the bit clock the Pi drives comes from it.
  c "I2S clocked by the PCM clock (bcm2835 clock 31)" test "$(g $i2s clocks | cut -d' ' -f2)" = 31
  c "card node: simple-audio-card named torlk" test "$(g $snd compatible) / $(g $snd simple-audio-card,name)" = "simple-audio-card / torlk"
  c "amplifier: maxim,max98357a" test "$(g /torlk-amplifier compatible)" = maxim,max98357a
  c "amplifier SD_MODE on GPIO16, active high" test "$(g /torlk-amplifier sdmode-gpios)" = "$(ph "$gpio") 16 0"
  c "microphone: dmic-codec, 2 channels" test "$(g /torlk-microphone compatible) / $(g /torlk-microphone num-channels)" = "dmic-codec / 2"
  local link codec want
  for link in 0:/torlk-microphone 1:/torlk-amplifier; do
    codec=${link#*:} link=$snd/simple-audio-card,dai-link@${link%%:*}
    c "$link: format i2s" test "$(g "$link" format)" = i2s
    c "$link: CPU DAI is the I2S controller" test "$(g "$link/cpu" sound-dai)" = "$(ph $i2s)"
    c "$link: codec is $codec" test "$(g "$link/codec" sound-dai)" = "$(ph "$codec")"
    want=$(ph "$link/cpu")
    c "$link: Pi is bit clock and frame master" test "$(g "$link" bitclock-master) $(g "$link" frame-master)" = "$want $want"
    c "$link: 2 slots of 32 bits (64 BCLK per frame)" test "$(g "$link/cpu" dai-tdm-slot-num) $(g "$link/cpu" dai-tdm-slot-width)" = "2 32"
  done
  return "$n"
}

# Only the card may hold its pins, and the button (17) and LED (27) must stay free for sysfs GPIO.
check_claims() {
  dtc -I dtb -O dts -o "$work/claims.dts" "$1" 2>/dev/null
  node "$here/overlay-pins.mjs" "$work/claims.dts" 16 17 18 19 20 21 27 | sort >"$work/claims"
  printf '%s\n' "/soc/i2s@7e203000 /soc/gpio@7e200000/pcm-gpio18 18" "/soc/i2s@7e203000 /soc/gpio@7e200000/pcm-gpio18 19" \
    "/soc/i2s@7e203000 /soc/gpio@7e200000/pcm-gpio18 20" "/soc/i2s@7e203000 /soc/gpio@7e200000/pcm-gpio18 21" \
    "/torlk-amplifier sdmode-gpios 16" | sort >"$work/claims.want"
  if cmp -s "$work/claims" "$work/claims.want"; then
    echo "  ok    GPIO16 and 18-21 claimed only by the card, GPIO17 and 27 by nothing (enabled nodes, pinctrl and *-gpios)"
  else
    echo "  FAIL  pin claims on GPIO16-21/27 differ from the card's:"; diff "$work/claims.want" "$work/claims" | sed 's/^/        /'
    return 1
  fi
}

echo "2. merged tree (fdtoverlay -i $board_dtb)"
if fdtoverlay -i "$work/base.dtb" -o "$work/merged.dtb" "$work/torlk-i2s.dtbo" 2>"$work/fdt.log"; then
  ok "fdtoverlay applies torlk-i2s.dtbo to $board_dtb"
  check_merged "$work/merged.dtb"
  fails=$((fails + $?))
  check "merged tree decompiles (dtc -I dtb -O dts)" dtc -I dtb -O dts -o "$work/merged.dts" "$work/merged.dtb"
  check_claims "$work/merged.dtb"
  fails=$((fails + $?))
else
  cat "$work/fdt.log"; bad "fdtoverlay applies torlk-i2s.dtbo to $board_dtb"
fi

echo "3. the kernel's drivers"
kver=$(root_ls /usr/lib/modules | head -n1)
[ -n "$kver" ] || bad "a kernel under /usr/lib/modules"
root_get "/boot/config-$kver" "$work/config" || bad "kernel config /boot/config-$kver"
root_get "/var/lib/dpkg/info/linux-image-$kver.list" "$work/pkg.list" || bad "package file list of linux-image-$kver"
root_get "/usr/lib/modules/$kver/modules.alias" "$work/modules.alias" || bad "modules.alias"
# option  module path under kernel/  OF compatible it must serve
drivers="SND_BCM2835_SOC_I2S sound/soc/bcm/snd-soc-bcm2835-i2s brcm,bcm2835-i2s
SND_SIMPLE_CARD sound/soc/generic/snd-soc-simple-card simple-audio-card
SND_SOC_MAX98357A sound/soc/codecs/snd-soc-max98357a maxim,max98357a
SND_SOC_DMIC sound/soc/codecs/snd-soc-dmic dmic-codec"
# Debian's armel linux-image-rpi builds only the I2S controller driver (checked 6.12.107+deb13-rpi):
# no machine driver and no codecs, so no overlay can make a card on the Zero W with it.
expected_gap=''
[ "$board" = zerow ] && expected_gap='SND_SIMPLE_CARD SND_SOC_MAX98357A SND_SOC_DMIC'
for opt in SND_SOC PINCTRL_BCM2835 CLK_BCM2835 DMA_BCM2835 SND_SOC_GENERIC_DMAENGINE_PCM; do
  check "kernel config: CONFIG_$opt built in or a module" grep -qE "^CONFIG_$opt=[ym]" "$work/config"
done
while read -r opt ko compat; do
  if grep -qE "^CONFIG_$opt=y" "$work/config"; then ok "CONFIG_$opt=y (built in)"; continue; fi
  if ! grep -qE "^CONFIG_$opt=m" "$work/config"; then
    case " $expected_gap " in
      *" $opt "*) echo "  gap   CONFIG_$opt is not set in $kver: no driver for $compat (documented in hardware/image.md)" ;;
      *) bad "CONFIG_$opt is not set in $kver: no driver for $compat" ;;
    esac
    continue
  fi
  case " $expected_gap " in *" $opt "*) bad "CONFIG_$opt is now =m in $kver: the Zero W gap is closed, update hardware/image.md and this test" ;; esac
  check "CONFIG_$opt=m; $(basename "$ko").ko in Debian's package" grep -qE "/$ko\.ko(\.xz)?$" "$work/pkg.list"
  f=$(grep -E "/$ko\.ko(\.xz)?$" "$work/pkg.list" | head -n1)
  if root_get "$f" "$work/mod.ko${f##*.ko}"; then
    ok "$(basename "$f") left on the image by the trimming hook"
    check "$(basename "$ko") serves compatible \"$compat\" (modinfo alias)" sh -c "/sbin/modinfo -F alias '$work/mod.ko${f##*.ko}' | grep -qxF 'of:N*T*C$compat'"
  else
    bad "$(basename "$f") on the image (the trimming hook removed it?)"
  fi
  check "modules.alias autoloads $(basename "$ko") for \"$compat\"" grep -qF "of:N*T*C$compat $(basename "$ko" | tr - _)" "$work/modules.alias"
done <<<"$drivers"

if [ -n "$img" ]; then
  echo "4. shipped on the image"
  if boot_get overlays/torlk-i2s.dtbo "$work/shipped.dtbo"; then
    ok "overlays/torlk-i2s.dtbo on the boot partition"
    check "shipped .dtbo is torlk-i2s.dts as built now" cmp -s "$work/shipped.dtbo" "$work/torlk-i2s.dtbo"
  else
    bad "overlays/torlk-i2s.dtbo on the boot partition"
  fi
  boot_get config.txt "$work/config.txt" || : >"$work/config.txt"
  check "config.txt: dtoverlay=torlk-i2s" grep -qx 'dtoverlay=torlk-i2s' "$work/config.txt"
  check "config.txt: no Raspberry Pi OS sound lines active (googlevoicehat, dtparam=i2s)" sh -c "! grep -qE '^(dtoverlay=googlevoicehat|dtparam=i2s)' '$work/config.txt'"
  check "config.txt: upstream_kernel=1 (overlays come from overlays/)" grep -qx 'upstream_kernel=1' "$work/config.txt"
fi

echo "5. the checks catch broken overlays"
mutant() {
  local what=$1 expr=$2
  sed "$expr" "$dts" >"$work/mutant.dts"
  if cmp -s "$work/mutant.dts" "$dts"; then bad "mutation '$what' changed nothing (test out of date)"; return; fi
  if dtc -@ -q -I dts -O dtb -o "$work/mutant.dtbo" "$work/mutant.dts" 2>/dev/null &&
    fdtoverlay -i "$work/base.dtb" -o "$work/mutant.dtb" "$work/mutant.dtbo" 2>/dev/null; then
    if check_merged "$work/mutant.dtb" >/dev/null && check_claims "$work/mutant.dtb" >/dev/null; then bad "a broken overlay ($what) passed the checks"; else ok "caught: $what"; fi
  else
    ok "caught: $what (does not compile or apply)"
  fi
}
mutant "I2S left disabled" '0,/status = "okay";/s//status = "disabled";/'
mutant "SD_MODE on GPIO17" 's/<&gpio 16 0>/<\&gpio 17 0>/'
mutant "codec as clock master" '0,/bitclock-master = <&torlk_mic_cpu>;/s//bitclock-master = <\&torlk_mic>;/'
mutant "card named otherwise" 's/simple-audio-card,name = "torlk"/simple-audio-card,name = "sndrpigooglevoi"/'
mutant "wrong pin group" 's/<&pcm_gpio18>/<\&pcm_gpio28>/'
mutant "16-bit slots" '0,/dai-tdm-slot-width = <32>;/s//dai-tdm-slot-width = <16>;/'
mutant "another node on the LED's GPIO27" 's/num-channels = <2>;/num-channels = <2>; dmicen-gpios = <\&gpio 27 0>;/'
mutant "no such label" 's/<&i2s>/<\&i2s_nonexistent>/'

if [ "$fails" = 0 ]; then echo "overlay test: all checks passed ($board)"; else echo "overlay test: $fails check(s) FAILED ($board)"; fi
[ "$fails" = 0 ]
