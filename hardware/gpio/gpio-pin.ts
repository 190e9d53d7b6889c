// The slice of onoff's Gpio class the drivers use, so the class can be injected (serialport's
// pattern: the native binding is a constructor parameter). onoff itself is loaded lazily, in this
// one place, so laptop mode and tests never touch sysfs or the epoll addon.
import { GpioUnavailableError } from './gpio-errors.js';

export type PinValue = 0 | 1;
export type PinDirection = 'in' | 'out' | 'high' | 'low';
export type PinEdge = 'none' | 'rising' | 'falling' | 'both';

export interface PinOptions {
  debounceTimeout?: number;
  activeLow?: boolean;
}

export interface GpioPin {
  readSync(): PinValue;
  writeSync(value: PinValue): void;
  watch(callback: (err: Error | null | undefined, value: PinValue) => void): void;
  unwatchAll(): void;
  unexport(): void;
}

/** onoff's `Gpio` constructor, or any class shaped like it. Takes the sysfs number, not the BCM pin. */
export type GpioPinClass = new (gpio: number, direction: PinDirection, edge?: PinEdge, options?: PinOptions) => GpioPin;

let onoffGpio: Promise<GpioPinClass> | undefined;

/** Imports onoff on first use. A missing or unbuildable epoll addon becomes a 'driver' error. */
export function loadOnoffGpio(): Promise<GpioPinClass> {
  onoffGpio ??= import('onoff').then(
    (mod) => {
      const Gpio = (mod as { Gpio?: GpioPinClass; default?: { Gpio?: GpioPinClass } }).Gpio ?? mod.default?.Gpio;
      if (typeof Gpio !== 'function') throw new GpioUnavailableError('driver', 'the onoff module has no Gpio class');
      return Gpio;
    },
    (err: unknown) => {
      onoffGpio = undefined; // let a later call retry, e.g. after the user rebuilt epoll
      const why = err instanceof Error ? err.message : String(err);
      throw new GpioUnavailableError('driver', `cannot load onoff (npm rebuild epoll?): ${why}`, undefined, { cause: err });
    },
  );
  return onoffGpio;
}
