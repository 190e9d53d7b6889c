// An in-memory bank of GPIO lines with an onoff-compatible Gpio class, like serialport's
// binding-mock: the drivers run their real code against simulated *pins*. It copies the onoff
// behaviour the drivers rely on: export/unexport, active-low inversion, 'low'/'high' outputs that
// start at that level, and a trailing debounce that reports the level once the line has been
// quiet for debounceTimeout ms (onoff wraps its epoll callback in lodash.debounce).
import type { GpioPin, GpioPinClass, PinDirection, PinEdge, PinOptions, PinValue } from './gpio-pin.js';

export interface SimulatedLine {
  /** Electrical level on the wire: 1 = 3.3 V. */
  level: PinValue;
  exported: boolean;
  direction: 'in' | 'out';
  activeLow: boolean;
  edge: PinEdge;
  /** An errno to throw at the next export, to rehearse EACCES/EBUSY/EINVAL. */
  failExport?: string;
}

export interface SimulatedGpioBankOptions {
  /** Level of a line nobody drives: 1 models the pull-ups config.txt sets. Default 1. */
  idleLevel?: PinValue;
}

export class SimulatedGpioBank {
  readonly #lines = new Map<number, SimulatedLine>();
  readonly #pins = new Set<SimulatedPin>();
  readonly #idle: PinValue;
  /** The class to inject into GpioButton / GpioLed. */
  readonly Gpio: GpioPinClass;

  constructor(options: SimulatedGpioBankOptions = {}) {
    this.#idle = options.idleLevel ?? 1;
    const bank = this;
    this.Gpio = class extends SimulatedPin {
      constructor(gpio: number, direction: PinDirection, edge?: PinEdge, options?: PinOptions) {
        super(bank, gpio, direction, edge, options);
      }
    };
  }

  line(n: number): SimulatedLine {
    let line = this.#lines.get(n);
    if (!line) {
      line = { level: this.#idle, exported: false, direction: 'in', activeLow: false, edge: 'none' };
      this.#lines.set(n, line);
    }
    return line;
  }

  /** Drives the wire from outside, e.g. the switch closing pulls it to 0. Inputs see the change. */
  drive(n: number, level: PinValue): void {
    const line = this.line(n);
    if (line.level === level) return;
    line.level = level;
    for (const pin of this.#pins) if (pin.gpio === n) pin.lineChanged();
  }

  level(n: number): PinValue {
    return this.line(n).level;
  }

  isExported(n: number): boolean {
    return this.line(n).exported;
  }

  /** Makes the next export of line n fail with this errno, as the kernel would. */
  failNextExport(n: number, code: 'EACCES' | 'EBUSY' | 'EINVAL' | 'ENOENT' | 'EIO'): void {
    this.line(n).failExport = code;
  }

  attach(pin: SimulatedPin): void {
    this.#pins.add(pin);
  }

  detach(pin: SimulatedPin): void {
    this.#pins.delete(pin);
  }
}

class SimulatedPin implements GpioPin {
  readonly #bank: SimulatedGpioBank;
  readonly #debounceMs: number;
  #listeners: Array<(err: Error | null | undefined, value: PinValue) => void> = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(bank: SimulatedGpioBank, readonly gpio: number, direction: PinDirection, edge?: PinEdge, options: PinOptions = {}) {
    this.#bank = bank;
    this.#debounceMs = options.debounceTimeout ?? 0;
    const line = bank.line(gpio);
    if (line.failExport) {
      const code = line.failExport;
      delete line.failExport;
      throw Object.assign(new Error(`${code}: simulated failure, write '/sys/class/gpio/export'`), {
        code,
        path: '/sys/class/gpio/export',
      });
    }
    line.exported = true;
    line.activeLow = options.activeLow ?? false;
    line.direction = direction === 'in' ? 'in' : 'out';
    line.edge = direction === 'in' ? (edge ?? 'none') : 'none';
    if (direction === 'low' || direction === 'high') this.writeSync(direction === 'high' ? 1 : 0);
    bank.attach(this);
  }

  readSync(): PinValue {
    const line = this.#line();
    return (line.activeLow ? 1 - line.level : line.level) as PinValue;
  }

  writeSync(value: PinValue): void {
    const line = this.#line();
    if (line.direction !== 'out') throw Object.assign(new Error('EPERM: operation not permitted, write'), { code: 'EPERM' });
    this.#bank.drive(this.gpio, (line.activeLow ? 1 - value : value) as PinValue);
  }

  watch(callback: (err: Error | null | undefined, value: PinValue) => void): void {
    this.#listeners.push(callback);
  }

  unwatchAll(): void {
    this.#listeners = [];
    clearTimeout(this.#timer);
  }

  unexport(): void {
    this.unwatchAll();
    this.#bank.line(this.gpio).exported = false;
    this.#bank.detach(this);
  }

  /** The wire changed: report after the debounce window, with the level read then. */
  lineChanged(): void {
    const line = this.#bank.line(this.gpio);
    if (line.direction !== 'in' || line.edge === 'none') return;
    const fire = () => {
      const value = this.readSync();
      if ((line.edge === 'rising' && value !== 1) || (line.edge === 'falling' && value !== 0)) return;
      for (const cb of [...this.#listeners]) cb(null, value);
    };
    if (this.#debounceMs <= 0) return fire();
    clearTimeout(this.#timer);
    this.#timer = setTimeout(fire, this.#debounceMs);
  }

  #line(): SimulatedLine {
    const line = this.#bank.line(this.gpio);
    if (!line.exported) throw Object.assign(new Error(`EBADF: gpio${this.gpio} is not exported`), { code: 'EBADF' });
    return line;
  }
}
