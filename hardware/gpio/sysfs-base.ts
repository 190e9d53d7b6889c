// Maps a BCM pin number (GPIO17) to its legacy sysfs GPIO number.
// Since Linux 6.6 the sysfs numbers of the Pi's pin controller start at a dynamic chip base (512 on
// Zero/Zero 2 W/Pi 4 with current kernels, 571 on a Pi 5), so writing "17" to export fails with
// EINVAL. The Pi kernel developers' advice (raspberrypi/linux #6037, #6084) is to find the pin
// controller's gpiochip and add its base; onoff does not do this (its fix, PR #204, is unmerged),
// so we do it here, by label, never by hard-coding 512.
import * as fs from 'node:fs';
import { join } from 'node:path';
import { GpioUnavailableError } from './gpio-errors.js';

/**
 * gpiochip labels of the controller that owns the 40-pin header, in order of preference:
 * BCM2835/6/7 (Pi 1-3, Zero, Zero W, Zero 2 W), BCM2711 (Pi 4, 400, CM4), RP1 (Pi 5; its SoC's own
 * pinctrl-bcm2712 chips do not reach the header).
 */
export const BCM_CHIP_LABELS = ['pinctrl-bcm2835', 'pinctrl-bcm2711', 'pinctrl-rp1'] as const;

export interface GpioChipInfo {
  /** Directory name under class/gpio, e.g. "gpiochip512". */
  readonly name: string;
  readonly label: string;
  readonly base: number;
  readonly ngpio: number;
}

/** Where sysfs is mounted. Tests point this at a fake tree; everything else uses "/sys". */
export const DEFAULT_SYSFS_ROOT = '/sys';

export function gpioClassDir(root = DEFAULT_SYSFS_ROOT): string {
  return join(root, 'class', 'gpio');
}

function readTrimmed(path: string): string | undefined {
  try {
    return fs.readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

function readCount(path: string): number | undefined {
  const text = readTrimmed(path);
  if (text === undefined || !/^\d+$/.test(text)) return undefined;
  return Number(text);
}

/**
 * Lists the gpiochips sysfs shows. Chips whose files are unreadable or garbled are left out: they
 * cannot be the one we use, and one broken expander chip must not hide the pin controller.
 */
export function listGpioChips(root = DEFAULT_SYSFS_ROOT): GpioChipInfo[] {
  const dir = gpioClassDir(root);
  let entries: string[];
  try {
    entries = fs.readdirSync(dir);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'EACCES' || code === 'EPERM') {
      throw new GpioUnavailableError('permission', `permission denied on ${dir}: add the user to the gpio group`, undefined, { cause: err });
    }
    throw new GpioUnavailableError('no-sysfs', `${dir} does not exist (not a Raspberry Pi?)`, undefined, { cause: err });
  }
  const chips: GpioChipInfo[] = [];
  for (const name of entries.filter((e) => /^gpiochip\d+$/.test(e)).sort()) {
    const label = readTrimmed(join(dir, name, 'label'));
    const base = readCount(join(dir, name, 'base'));
    const ngpio = readCount(join(dir, name, 'ngpio'));
    if (label === undefined || base === undefined || ngpio === undefined) continue;
    chips.push({ name, label, base, ngpio });
  }
  return chips;
}

/** Finds the chip that owns the header pins. Throws GpioUnavailableError('no-chip') when none does. */
export function findBcmChip(root = DEFAULT_SYSFS_ROOT): GpioChipInfo {
  const chips = listGpioChips(root);
  for (const label of BCM_CHIP_LABELS) {
    const chip = chips.find((c) => c.label === label);
    if (chip) return chip;
  }
  const seen = chips.length ? chips.map((c) => `${c.name} "${c.label}"`).join(', ') : 'none';
  throw new GpioUnavailableError(
    'no-chip',
    `no Raspberry Pi pin controller (${BCM_CHIP_LABELS.join(', ')}) under ${gpioClassDir(root)}; chips seen: ${seen}`,
  );
}

function assertBcmPin(bcmPin: number): void {
  if (!Number.isInteger(bcmPin) || bcmPin < 0) {
    throw new TypeError(`"bcmPin" must be a non-negative integer, got ${String(bcmPin)}`);
  }
}

/** The sysfs GPIO number of a BCM pin: the pin controller's base plus the pin. */
export function sysfsGpioNumber(bcmPin: number, root = DEFAULT_SYSFS_ROOT): number {
  assertBcmPin(bcmPin);
  const chip = findBcmChip(root);
  if (bcmPin >= chip.ngpio) {
    throw new GpioUnavailableError(
      'pin-out-of-range',
      `GPIO${bcmPin} is out of range: ${chip.name} "${chip.label}" has ${chip.ngpio} lines (0-${chip.ngpio - 1})`,
      bcmPin,
    );
  }
  return chip.base + bcmPin;
}

/**
 * Checks that this process may export pins, before onoff tries and fails with a bare EACCES.
 * Opening the export file write-only is the same probe onoff's Gpio.accessible uses; `open` is
 * injectable because tests run as root, where file modes deny nothing.
 */
export function assertExportWritable(
  root = DEFAULT_SYSFS_ROOT,
  open: (path: string, flags: number) => number = fs.openSync,
  close: (fd: number) => void = fs.closeSync,
): void {
  const path = join(gpioClassDir(root), 'export');
  let fd: number;
  try {
    fd = open(path, fs.constants.O_WRONLY);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'EACCES' || code === 'EPERM') {
      throw new GpioUnavailableError(
        'permission',
        `permission denied on ${path}: add the user to the gpio group (sudo adduser $USER gpio) and log in again`,
        undefined,
        { cause: err },
      );
    }
    if (code === 'ENOENT') {
      throw new GpioUnavailableError('no-sysfs', `${path} does not exist (not a Raspberry Pi?)`, undefined, { cause: err });
    }
    throw new GpioUnavailableError('driver', `cannot open ${path}: ${(err as Error).message}`, undefined, { cause: err });
  }
  close(fd);
}
