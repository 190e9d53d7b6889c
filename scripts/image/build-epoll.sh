#!/usr/bin/env bash
# onoff's epoll is a native addon (nan, so tied to Node's ABI 115 = Node 20, not N-API): cross-compile
# it for the board with Debian's cross g++, the way scripts/prebuild does the audio addon, and stage
# the runtime packages onoff needs in OUT/node_modules (pruned: no sources, tests or docs).
#   scripts/image/build-epoll.sh BOARD OUT
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
board=${1:?board}
out=${2:?output dir}
# shellcheck source=board.sh
. "$here/board.sh" "$board"
node_gyp=${NODE_GYP:-/usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js}
case "$debian_arch" in
  arm64) triple=aarch64-linux-gnu gyp_arch=arm64 flags="-march=armv8-a" machine=AArch64 ;;
  armel) triple=arm-linux-gnueabi gyp_arch=arm flags="-march=armv6 -mfpu=vfp -mfloat-abi=softfp -marm" machine=ARM ;;
esac
command -v "$triple-g++" >/dev/null || { echo "build-epoll: $triple-g++ missing: run scripts/setup --cross" >&2; exit 1; }
[ -f "$node_gyp" ] || { echo "build-epoll: node-gyp not found at $node_gyp (set NODE_GYP)" >&2; exit 1; }
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" = 20 ] || { echo "build-epoll: the build machine's Node is $node_major; epoll (nan) must be built against Node 20 headers like the image's" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/torlk-epoll-XXXXXX")
trap 'rm -rf "$work"' EXIT
cp -r "$repo/node_modules/epoll" "$work/epoll"
rm -rf "$work/epoll/build"
(
  cd "$work/epoll"
  export CC="$triple-gcc" CXX="$triple-g++" LINK="$triple-g++" AR="$triple-ar"
  export CFLAGS="$flags" CXXFLAGS="$flags" NODE_PATH="$repo/node_modules"
  node "$node_gyp" rebuild --arch="$gyp_arch" --nodedir=/usr >"$work/gyp.log" 2>&1 || { cat "$work/gyp.log" >&2; exit 1; }
)
built=$work/epoll/build/Release/epoll.node
"$triple-strip" "$built"
readelf -h "$built" | grep -q "Machine: *$machine" || { echo "build-epoll: $built is not an $machine binary" >&2; exit 1; }
if [ "$debian_arch" = armel ]; then
  readelf -A "$built" | grep -q 'Tag_CPU_arch: v6' || { echo "build-epoll: armel epoll.node is not built for ARMv6" >&2; exit 1; }
  ! readelf -A "$built" | grep -q 'Tag_ABI_VFP_args: VFP registers' || { echo "build-epoll: armel epoll.node uses the hard-float ABI" >&2; exit 1; }
fi

rm -rf "$out/node_modules"
mkdir -p "$out/node_modules"
for pkg in onoff epoll bindings file-uri-to-path lodash.debounce node-gyp-build; do
  mkdir -p "$out/node_modules/$pkg"
  (cd "$repo/node_modules/$pkg" && find . -maxdepth 3 \( -name '*.js' -o -name '*.cjs' -o -name package.json -o -name 'LICENSE*' \) \
    ! -path './test/*' ! -path './integration-test/*' ! -path './example*' ! -path './node_modules/*' -exec cp --parents {} "$out/node_modules/$pkg/" \;)
done
mkdir -p "$out/node_modules/epoll/build/Release"
cp "$built" "$out/node_modules/epoll/build/Release/epoll.node"
echo "build-epoll: $(readelf -h "$built" | sed -n "s/^ *Machine: *//p") epoll.node" >&2
