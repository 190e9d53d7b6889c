// GpioButton and GpioLed beyond the shared contract: pin lookup through open(), how each setup
// failure reads, and the real onoff module loading on a machine without GPIO.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { setLogSink } from '../../firmware/log.js';
import type { ButtonEdge } from '../../hardware/button.js';
import { GpioIoError, GpioUnavailableError } from '../../hardware/gpio/gpio-errors.js';
import { GpioButton } from '../../hardware/gpio/gpio-button.js';
import { GpioLed } from '../../hardware/gpio/gpio-led.js';
import { loadOnoffGpio, type GpioPin, type GpioPinClass, type PinValue } from '../../hardware/gpio/gpio-pin.js';
import { SimulatedGpioBank } from '../../hardware/gpio/simulated-gpio.js';

const roots: string[] = [];
afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

function fakeSysfs(base: number): string {
  const root = mkdtempSync(join(tmpdir(), 'torlk-sysfs-'));
  roots.push(root);
  const chip = join(root, 'class', 'gpio', `gpiochip${base}`);
  mkdirSync(chip, { recursive: true });
  writeFileSync(join(root, 'class', 'gpio', 'export'), '');
  writeFileSync(join(chip, 'base'), `${base}\n`);
  writeFileSync(join(chip, 'label'), 'pinctrl-bcm2835\n');
  writeFileSync(join(chip, 'ngpio'), '54\n');
  return root;
}

async function caught(p: Promise<unknown> | (() => unknown)): Promise<unknown> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    return err;
  }
  throw new Error('expected an error');
}

describe('GpioButton', () => {
  it.each([
    [0, 17],
    [512, 529],
  ])('open() on a base-%i tree exports sysfs %i, active-low, and reports presses', async (base, expected) => {
    const bank = new SimulatedGpioBank();
    const button = await GpioButton.open({ sysfsRoot: fakeSysfs(base), Gpio: bank.Gpio, debounceMs: 5 });
    try {
      expect(button.sysfsNumber).toBe(expected);
      expect(bank.isExported(expected)).toBe(true);
      const edges: ButtonEdge[] = [];
      button.onEdge((e) => edges.push(e));
      bank.drive(expected, 0); // contact closes to GND
      await sleep(20);
      expect(edges.map((e) => e.kind)).toEqual(['press']);
    } finally {
      await button.close();
    }
    expect(bank.isExported(expected)).toBe(false);
  });

  it('starts pressed, without an edge, when the button is already held', async () => {
    const bank = new SimulatedGpioBank();
    bank.drive(529, 0);
    const button = new GpioButton({ bcmPin: 17, sysfsNumber: 529, Gpio: bank.Gpio, debounceMs: 5 });
    const edges: ButtonEdge[] = [];
    button.onEdge((e) => edges.push(e));
    expect(button.pressed).toBe(true);
    bank.drive(529, 1);
    await sleep(20);
    expect(edges.map((e) => e.kind)).toEqual(['release']);
    await button.close();
  });

  it('stamps edges with the injected monotonic clock', async () => {
    const bank = new SimulatedGpioBank();
    let now = 1000;
    const button = new GpioButton({ bcmPin: 17, sysfsNumber: 529, Gpio: bank.Gpio, debounceMs: 5, clock: () => now });
    const edges: ButtonEdge[] = [];
    button.onEdge((e) => edges.push(e));
    bank.drive(529, 0);
    await sleep(20);
    now = 1500;
    bank.drive(529, 1);
    await sleep(20);
    expect(edges).toEqual([
      { kind: 'press', at: 1000 },
      { kind: 'release', at: 1500 },
    ]);
    await button.close();
  });

  it.each([
    ['EACCES', 'permission', 'permission denied on /sys/class/gpio/export: add the user to the gpio group'],
    ['EBUSY', 'busy', 'GPIO17 (sysfs 529) is in use by the kernel or another program'],
    ['EINVAL', 'invalid-number', 'the kernel rejected sysfs GPIO 529 for GPIO17 (wrong gpiochip base?)'],
    ['ENOENT', 'no-sysfs', '/sys/class/gpio/export does not exist (not a Raspberry Pi?)'],
    ['EIO', 'driver', 'setting up GPIO17 failed'],
  ] as const)('turns %s at export into a %s error that says what to do', async (code, reason, text) => {
    const bank = new SimulatedGpioBank();
    bank.failNextExport(529, code);
    const err = await caught(() => new GpioButton({ bcmPin: 17, sysfsNumber: 529, Gpio: bank.Gpio }));
    expect(err).toBeInstanceOf(GpioUnavailableError);
    expect(err).toMatchObject({ reason, bcmPin: 17 });
    expect((err as Error).message).toContain(text);
    expect((err as Error).cause).toMatchObject({ code });
  });

  it('logs an interrupt error and keeps the state it had', async () => {
    const listeners: Array<(err: Error | null | undefined, v: PinValue) => void> = [];
    class ErringPin implements GpioPin {
      readSync = (): PinValue => 0;
      writeSync = () => {};
      watch = (cb: (err: Error | null | undefined, v: PinValue) => void) => void listeners.push(cb);
      unwatchAll = () => void listeners.splice(0);
      unexport = () => {};
    }
    const button = new GpioButton({ bcmPin: 17, sysfsNumber: 17, Gpio: ErringPin as unknown as GpioPinClass });
    const edges: ButtonEdge[] = [];
    const logged: string[] = [];
    button.onEdge((e) => edges.push(e));
    const prev = setLogSink((l) => logged.push(l));
    try {
      listeners[0]!(new Error('epoll EBADF'), 1);
    } finally {
      setLogSink(prev);
    }
    expect(edges).toEqual([]);
    expect(button.pressed).toBe(false);
    expect(logged.join('\n')).toContain('epoll EBADF');
    await button.close();
  });

  it('open() without sysfs says GPIO is not available, plainly, before loading onoff', async () => {
    const root = mkdtempSync(join(tmpdir(), 'torlk-nosysfs-'));
    roots.push(root);
    const err = await caught(GpioButton.open({ sysfsRoot: root }));
    expect(err).toBeInstanceOf(GpioUnavailableError);
    expect((err as Error).message).toBe(`GPIO is not available: ${root}/class/gpio does not exist (not a Raspberry Pi?)`);
  });

  it('with a fake tree but the real onoff, fails at export with a typed error, not a bare errno', async () => {
    // A base no kernel uses: here there is no /sys/class/gpio (ENOENT); on a Pi the kernel refuses
    // the number (EINVAL). Either way the real onoff is loaded and nothing stays exported.
    const err = await caught(GpioButton.open({ sysfsRoot: fakeSysfs(100_000) }));
    expect(err).toBeInstanceOf(GpioUnavailableError);
    expect(['no-sysfs', 'invalid-number']).toContain((err as GpioUnavailableError).reason);
    expect(err).toMatchObject({ bcmPin: 17 });
  });

  it('unexports again when the first read fails after export', async () => {
    let unexported = false;
    class UnreadablePin implements GpioPin {
      readSync = (): PinValue => {
        throw Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' });
      };
      writeSync = () => {};
      watch = () => {};
      unwatchAll = () => {};
      unexport = () => {
        unexported = true;
      };
    }
    const err = await caught(() => new GpioButton({ bcmPin: 17, sysfsNumber: 529, Gpio: UnreadablePin as unknown as GpioPinClass }));
    expect(err).toMatchObject({ reason: 'driver', bcmPin: 17 });
    expect(unexported).toBe(true);
  });
});

describe('GpioLed', () => {
  it('open() exports GPIO27 at base+27 as an output that starts dark, even if the line was high', async () => {
    const bank = new SimulatedGpioBank({ idleLevel: 1 });
    const led = await GpioLed.open({ sysfsRoot: fakeSysfs(512), Gpio: bank.Gpio });
    expect(led.sysfsNumber).toBe(539);
    expect(bank.level(539)).toBe(0);
    await led.close();
  });

  it('writes to sysfs only when the level changes', async () => {
    const writes: PinValue[] = [];
    class CountingPin implements GpioPin {
      readSync = (): PinValue => 0;
      writeSync = (v: PinValue) => void writes.push(v);
      watch = () => {};
      unwatchAll = () => {};
      unexport = () => {};
    }
    const led = new GpioLed({ bcmPin: 27, sysfsNumber: 27, Gpio: CountingPin as unknown as GpioPinClass });
    for (const on of [true, true, true, false, false, true]) led.write(on);
    expect(writes).toEqual([1, 0, 1]);
    await led.close();
    expect(writes).toEqual([1, 0, 1, 0]);
  });

  it('throws GpioIoError naming the pin when a write fails, and still unexports at close', async () => {
    let unexported = false;
    class BrokenPin implements GpioPin {
      readSync = (): PinValue => 0;
      writeSync = () => {
        throw Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' });
      };
      watch = () => {};
      unwatchAll = () => {};
      unexport = () => {
        unexported = true;
      };
    }
    const led = new GpioLed({ bcmPin: 27, sysfsNumber: 539, Gpio: BrokenPin as unknown as GpioPinClass });
    const err = await caught(() => led.write(true));
    expect(err).toBeInstanceOf(GpioIoError);
    expect((err as Error).message).toBe('GPIO27 write failed: EIO: i/o error, write');
    const prev = setLogSink(() => {});
    try {
      await led.close();
    } finally {
      setLogSink(prev);
    }
    expect(unexported).toBe(true);
  });

  it('turns EACCES at export into the permission error', async () => {
    const bank = new SimulatedGpioBank();
    bank.failNextExport(539, 'EACCES');
    const err = await caught(() => new GpioLed({ bcmPin: 27, sysfsNumber: 539, Gpio: bank.Gpio }));
    expect(err).toMatchObject({ reason: 'permission', bcmPin: 27 });
  });
});

describe('loadOnoffGpio', () => {
  it('loads the real onoff (with its epoll addon) lazily and returns its Gpio class', async () => {
    const Gpio = await loadOnoffGpio();
    expect(typeof Gpio).toBe('function');
    expect(Gpio.name).toBe('Gpio');
    expect(await loadOnoffGpio()).toBe(Gpio);
  });
});
