// The BCM-pin → sysfs-number lookup against fake /sys trees of each kernel layout.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { GpioUnavailableError } from '../../hardware/gpio/gpio-errors.js';
import { assertExportWritable, findBcmChip, listGpioChips, sysfsGpioNumber } from '../../hardware/gpio/sysfs-base.js';

interface FakeChip {
  base: number | string;
  label: string;
  ngpio: number | string;
}

const roots: string[] = [];
afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

/** Builds <root>/class/gpio with export/unexport and the given gpiochips; returns the root. */
function fakeSysfs(chips: FakeChip[]): string {
  const root = mkdtempSync(join(tmpdir(), 'torlk-sysfs-'));
  roots.push(root);
  const dir = join(root, 'class', 'gpio');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'export'), '');
  writeFileSync(join(dir, 'unexport'), '');
  for (const chip of chips) {
    const chipDir = join(dir, `gpiochip${chip.base}`);
    mkdirSync(chipDir);
    writeFileSync(join(chipDir, 'base'), `${chip.base}\n`);
    writeFileSync(join(chipDir, 'label'), `${chip.label}\n`);
    writeFileSync(join(chipDir, 'ngpio'), `${chip.ngpio}\n`);
  }
  return root;
}

// Layouts as the kernels show them: before 6.6 the pin controller sat at base 0; since 6.6 the
// bases are allocated upwards from 512, with the firmware GPIO expander after the controller.
const zeroBefore66 = () => fakeSysfs([{ base: 0, label: 'pinctrl-bcm2835', ngpio: 54 }, { base: 504, label: 'raspberrypi-exp-gpio', ngpio: 8 }]);
const zeroSince66 = () => fakeSysfs([{ base: 512, label: 'pinctrl-bcm2835', ngpio: 54 }, { base: 566, label: 'raspberrypi-exp-gpio', ngpio: 8 }]);
const pi4Since66 = () => fakeSysfs([{ base: 512, label: 'pinctrl-bcm2711', ngpio: 58 }, { base: 570, label: 'raspberrypi-exp-gpio', ngpio: 8 }]);
const pi5 = () =>
  fakeSysfs([
    { base: 512, label: 'gpio-brcmstb@107d508500', ngpio: 32 },
    { base: 544, label: 'gpio-brcmstb@107d508520', ngpio: 4 },
    { base: 571, label: 'pinctrl-rp1', ngpio: 54 },
  ]);

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected an error');
}

describe('sysfsGpioNumber', () => {
  it('maps GPIO17 to 17 on the base-0 layout (kernels before 6.6)', () => {
    expect(sysfsGpioNumber(17, zeroBefore66())).toBe(17);
  });

  it('maps GPIO17 to 529 on the base-512 layout (Linux 6.6+, Zero 2 W)', () => {
    const root = zeroSince66();
    expect(sysfsGpioNumber(17, root)).toBe(529);
    expect(sysfsGpioNumber(27, root)).toBe(539);
    expect(sysfsGpioNumber(0, root)).toBe(512);
    expect(sysfsGpioNumber(53, root)).toBe(565);
  });

  it('finds the Pi 4 controller (pinctrl-bcm2711) and the Pi 5 header controller (pinctrl-rp1)', () => {
    expect(sysfsGpioNumber(17, pi4Since66())).toBe(529);
    expect(sysfsGpioNumber(17, pi5())).toBe(588);
    expect(findBcmChip(pi5())).toEqual({ name: 'gpiochip571', label: 'pinctrl-rp1', base: 571, ngpio: 54 });
  });

  it('says plainly when /sys/class/gpio does not exist', () => {
    const root = mkdtempSync(join(tmpdir(), 'torlk-nosysfs-'));
    roots.push(root);
    const err = catchError(() => sysfsGpioNumber(17, root));
    expect(err).toBeInstanceOf(GpioUnavailableError);
    expect(err).toMatchObject({ reason: 'no-sysfs' });
    expect((err as Error).message).toBe(`GPIO is not available: ${root}/class/gpio does not exist (not a Raspberry Pi?)`);
  });

  it('treats a file where the directory should be as missing sysfs', () => {
    const root = mkdtempSync(join(tmpdir(), 'torlk-nosysfs-'));
    roots.push(root);
    writeFileSync(join(root, 'class'), 'not a directory');
    expect(catchError(() => sysfsGpioNumber(17, root))).toMatchObject({ reason: 'no-sysfs' });
  });

  it('names the chips it saw when none is a Raspberry Pi pin controller', () => {
    const root = fakeSysfs([{ base: 0, label: 'gpio-mockup-A', ngpio: 8 }]);
    const err = catchError(() => sysfsGpioNumber(17, root));
    expect(err).toMatchObject({ reason: 'no-chip' });
    expect((err as Error).message).toContain('gpiochip0 "gpio-mockup-A"');
    expect((err as Error).message).toContain('pinctrl-bcm2835');
  });

  it('reports an empty gpio class as no chip, saying none was seen', () => {
    const err = catchError(() => sysfsGpioNumber(17, fakeSysfs([])));
    expect(err).toMatchObject({ reason: 'no-chip' });
    expect((err as Error).message).toContain('chips seen: none');
  });

  it('rejects a pin beyond the chip, naming its range', () => {
    const err = catchError(() => sysfsGpioNumber(54, zeroSince66()));
    expect(err).toBeInstanceOf(GpioUnavailableError);
    expect(err).toMatchObject({ reason: 'pin-out-of-range', bcmPin: 54 });
    expect((err as Error).message).toContain('has 54 lines (0-53)');
  });

  it.each([-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('rejects pin %s as a TypeError', (pin) => {
    expect(() => sysfsGpioNumber(pin, zeroSince66())).toThrow(TypeError);
  });

  it('skips a chip with garbled files instead of using a wrong base', () => {
    const root = fakeSysfs([
      { base: 0, label: 'pinctrl-bcm2835', ngpio: 'lots' },
      { base: 'x512', label: 'pinctrl-bcm2835', ngpio: 54 },
    ]);
    expect(listGpioChips(root)).toEqual([]);
    expect(catchError(() => sysfsGpioNumber(17, root))).toMatchObject({ reason: 'no-chip' });
  });
});

describe('assertExportWritable', () => {
  const failing = (code: string) => () => {
    throw Object.assign(new Error(`${code}: simulated`), { code });
  };

  it('passes on a writable export file', () => {
    expect(() => assertExportWritable(zeroSince66())).not.toThrow();
  });

  it('explains EACCES on export: add the user to the gpio group', () => {
    const root = zeroSince66();
    const err = catchError(() => assertExportWritable(root, failing('EACCES')));
    expect(err).toMatchObject({ reason: 'permission' });
    expect((err as Error).message).toContain(`GPIO is not available: permission denied on ${root}/class/gpio/export: add the user to the gpio group`);
    expect(catchError(() => assertExportWritable(root, failing('EPERM')))).toMatchObject({ reason: 'permission' });
  });

  it('reports a missing export file as missing sysfs, and other failures as driver errors', () => {
    const root = mkdtempSync(join(tmpdir(), 'torlk-nosysfs-'));
    roots.push(root);
    expect(catchError(() => assertExportWritable(root))).toMatchObject({ reason: 'no-sysfs' });
    expect(catchError(() => assertExportWritable(zeroSince66(), failing('EIO')))).toMatchObject({ reason: 'driver' });
  });
});
