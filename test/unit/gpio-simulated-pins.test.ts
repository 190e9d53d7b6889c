// SimulatedGpioBank must behave like onoff on sysfs where the drivers depend on it, or the GPIO
// contract run on simulated pins would prove nothing about the real drivers.
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { SimulatedGpioBank } from '../../hardware/gpio/simulated-gpio.js';
import type { PinValue } from '../../hardware/gpio/gpio-pin.js';

describe('SimulatedGpioBank', () => {
  it('exports on construction and unexports on unexport()', () => {
    const bank = new SimulatedGpioBank();
    const pin = new bank.Gpio(529, 'in', 'both');
    expect(bank.isExported(529)).toBe(true);
    pin.unexport();
    expect(bank.isExported(529)).toBe(false);
  });

  it('inverts reads and writes when activeLow, like the sysfs active_low file', () => {
    const bank = new SimulatedGpioBank({ idleLevel: 1 });
    const input = new bank.Gpio(529, 'in', 'both', { activeLow: true });
    expect(input.readSync()).toBe(0);
    bank.drive(529, 0);
    expect(input.readSync()).toBe(1);
    const out = new bank.Gpio(539, 'out', 'none', { activeLow: true });
    out.writeSync(1);
    expect(bank.level(539)).toBe(0);
  });

  it("starts 'low' and 'high' outputs at that level", () => {
    const bank = new SimulatedGpioBank({ idleLevel: 1 });
    new bank.Gpio(539, 'low');
    new bank.Gpio(540, 'high');
    expect(bank.level(539)).toBe(0);
    expect(bank.level(540)).toBe(1);
  });

  it('reports once after a burst, with the level at the end of the debounce window', async () => {
    const bank = new SimulatedGpioBank();
    const pin = new bank.Gpio(529, 'in', 'both', { debounceTimeout: 10 });
    const seen: PinValue[] = [];
    pin.watch((_err, v) => seen.push(v));
    for (const level of [0, 1, 0, 1, 0] as const) bank.drive(529, level);
    expect(seen).toEqual([]);
    await sleep(30);
    expect(seen).toEqual([0]);
  });

  it('reports immediately without debounce, and honours rising/falling edge filters', () => {
    const bank = new SimulatedGpioBank();
    const rising = new bank.Gpio(529, 'in', 'rising');
    const seen: PinValue[] = [];
    rising.watch((_err, v) => seen.push(v));
    bank.drive(529, 0);
    bank.drive(529, 1);
    expect(seen).toEqual([1]);
  });

  it('delivers nothing after unwatchAll or unexport', async () => {
    const bank = new SimulatedGpioBank();
    const pin = new bank.Gpio(529, 'in', 'both', { debounceTimeout: 5 });
    const seen: PinValue[] = [];
    pin.watch((_err, v) => seen.push(v));
    bank.drive(529, 0);
    pin.unexport();
    await sleep(20);
    expect(seen).toEqual([]);
  });

  it('fails like the kernel: EPERM writing an input, EBADF after unexport, a one-shot export errno', () => {
    const bank = new SimulatedGpioBank();
    const input = new bank.Gpio(529, 'in', 'both');
    expect(() => input.writeSync(1)).toThrow(expect.objectContaining({ code: 'EPERM' }));
    input.unexport();
    expect(() => input.readSync()).toThrow(expect.objectContaining({ code: 'EBADF' }));
    bank.failNextExport(539, 'EBUSY');
    expect(() => new bank.Gpio(539, 'low')).toThrow(expect.objectContaining({ code: 'EBUSY', path: '/sys/class/gpio/export' }));
    expect(() => new bank.Gpio(539, 'low')).not.toThrow();
  });
});
