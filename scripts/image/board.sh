# Sourced with a board name: the facts that differ between the two Pi Zeros.
# shellcheck shell=bash
case "${1:-}" in
  zero2w)
    debian_arch=arm64
    # The trixie arm64 indexes on the mirror are consistent.
    suite=trixie
    kernel_flavour=arm64
    board_dtb=bcm2837-rpi-zero-2-w.dtb
    # Kept for the QEMU boot test (-M raspi3b is the same SoC family).
    extra_dtbs="bcm2837-rpi-3-b.dtb"
    qemu_user=qemu-aarch64-static
    qemu_cpu=cortex-a53
    addon_prebuild=linux-arm64/i2s-audio.armv8.glibc.node
    ;;
  zerow)
    debian_arch=armel
    # The mirror's trixie armel index did not match its Release file; `stable` (= trixie) did.
    suite=stable
    kernel_flavour=rpi
    board_dtb=bcm2835-rpi-zero-w.dtb
    extra_dtbs="bcm2835-rpi-zero.dtb"
    qemu_user=qemu-arm-static
    # Debian armel's Node is built for ARMv6K/VFPv2: the Zero W's ARM1176 runs it, ARMv5 does not.
    qemu_cpu=arm1176
    addon_prebuild=linux-arm/i2s-audio.armv6.glibc.node
    ;;
  *)
    echo "unknown board '${1:-}': expected zero2w (Pi Zero 2 W, arm64) or zerow (Pi Zero W, armel)" >&2
    return 2 2>/dev/null || exit 2
    ;;
esac
