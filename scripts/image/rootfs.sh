#!/usr/bin/env bash
# Stage 1 of the image build: the Debian root filesystem for one board, as a tarball, from Debian
# packages only (mmdebstrap + qemu-user-static binfmt). This is the slow step (minutes), so its
# result is cached under out/cache, keyed by everything that shapes it (this file, the hook, the
# package list, suite and mirror); later builds reuse it and only redo the fast stage 2.
#   scripts/image/rootfs.sh BOARD OUT_TAR      (BOARD: zero2w | zerow)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
board=${1:?board}
out=${2:?output tarball}

# shellcheck source=board.sh
. "$here/board.sh" "$board"

mirror=${TORLK_MIRROR:-}
if [ -z "$mirror" ]; then
  # "The mirror configured on the machine": the first Debian URI in apt's sources.
  # (Debian's own archive, not -security nor a third-party repository such as nodesource.)
  mirror=$( (grep -rhoE '^(URIs:|deb)\s+\S+' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null || true) |
    awk '{print $2}' | grep -E '/debian/?$' | head -n1 || true)
  mirror=${mirror:-http://deb.debian.org/debian}
fi

for tool in mmdebstrap arch-test; do
  command -v "$tool" >/dev/null || { echo "rootfs: $tool missing: run scripts/setup --image" >&2; exit 1; }
done
arch-test "$debian_arch" >/dev/null || {
  echo "rootfs: this machine cannot run $debian_arch binaries: install qemu-user-static and binfmt-support (scripts/setup --image), and mount binfmt_misc" >&2
  exit 1
}

include=$(grep -hv '^#' "$here/packages-common.txt" "$here/packages-$debian_arch.txt" | tr -s ' \n' ',' | sed 's/^,//; s/,$//')

# Docs, man pages and translations are dead weight on a headless radio (the copyright files stay).
dpkgopts=(
  --dpkgopt='path-exclude=/usr/share/man/*'
  --dpkgopt='path-exclude=/usr/share/info/*'
  --dpkgopt='path-exclude=/usr/share/locale/*'
  --dpkgopt='path-include=/usr/share/locale/locale.alias'
  --dpkgopt='path-exclude=/usr/share/doc/*'
  --dpkgopt='path-include=/usr/share/doc/*/copyright'
  --dpkgopt='path-exclude=/usr/share/lintian/*'
  --dpkgopt='path-exclude=/usr/share/bash-completion/*'
)

echo "rootfs: mmdebstrap $debian_arch $suite from $mirror (several minutes)" >&2
mmdebstrap --mode=root --variant=apt --format=directory --architectures="$debian_arch" \
  --components='main non-free-firmware' --include="$include" "${dpkgopts[@]}" \
  --aptopt='Acquire::Retries "3"' \
  --customize-hook="\"$here/hooks/trim-and-boot.sh\" \"\$1\" $board" \
  "$suite" "$out.partial" "$mirror"
mv "$out.partial" "$out"
