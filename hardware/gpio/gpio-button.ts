// The talk button on a GPIO pin: input, both edges, active-low (the switch closes to GND against the
// pull-up config.txt sets), debounced by onoff. Edges reach listeners about one debounce period
// after the contact settles; their timestamps are taken then, on the monotonic clock.
import type { Button, ButtonEdge } from '../button.js';
import { createLog } from '../../firmware/log.js';
import { ButtonEdges } from '../sim/button-edges.js';
import { gpioSetupError } from './gpio-errors.js';
import { loadOnoffGpio, type GpioPin, type GpioPinClass, type PinValue } from './gpio-pin.js';
import { assertExportWritable, DEFAULT_SYSFS_ROOT, gpioClassDir, sysfsGpioNumber } from './sysfs-base.js';

const log = createLog('gpio-button');

/** The pin of the design in hardware/design/pinout.md. */
export const BUTTON_BCM_PIN = 17;
export const BUTTON_DEBOUNCE_MS = 20;

export interface GpioButtonOptions {
  bcmPin: number;
  /** The sysfs number to export (see sysfs-base.ts). */
  sysfsNumber: number;
  /** onoff's Gpio, or a SimulatedGpioBank's. */
  Gpio: GpioPinClass;
  debounceMs?: number;
  clock?: () => number;
}

export interface OpenGpioButtonOptions {
  bcmPin?: number;
  sysfsRoot?: string;
  /** Inject a Gpio class; default: onoff, imported now. */
  Gpio?: GpioPinClass;
  debounceMs?: number;
  clock?: () => number;
}

export class GpioButton implements Button {
  readonly bcmPin: number;
  readonly sysfsNumber: number;
  readonly #pin: GpioPin;
  readonly #edges = new ButtonEdges();
  readonly #clock: () => number;

  /** Finds the pin's sysfs number, loads onoff if no Gpio class is given, and exports the pin. */
  static async open(options: OpenGpioButtonOptions = {}): Promise<GpioButton> {
    const root = options.sysfsRoot ?? DEFAULT_SYSFS_ROOT;
    const bcmPin = options.bcmPin ?? BUTTON_BCM_PIN;
    const sysfsNumber = sysfsGpioNumber(bcmPin, root);
    let Gpio = options.Gpio;
    if (!Gpio) {
      assertExportWritable(root);
      Gpio = await loadOnoffGpio();
    }
    return new GpioButton({ bcmPin, sysfsNumber, Gpio, debounceMs: options.debounceMs, clock: options.clock });
  }

  constructor(options: GpioButtonOptions) {
    this.bcmPin = options.bcmPin;
    this.sysfsNumber = options.sysfsNumber;
    this.#clock = options.clock ?? (() => performance.now());
    const debounceTimeout = options.debounceMs ?? BUTTON_DEBOUNCE_MS;
    let pin: GpioPin;
    try {
      pin = new options.Gpio(this.sysfsNumber, 'in', 'both', { debounceTimeout, activeLow: true });
    } catch (err) {
      throw gpioSetupError(err, this.bcmPin, this.sysfsNumber, gpioClassDir());
    }
    try {
      // Someone may already be holding the button when the radio starts.
      this.#edges.initial(pin.readSync() === 1);
    } catch (err) {
      unexportQuietly(pin, this.bcmPin); // do not leave the pin exported behind a failed open
      throw gpioSetupError(err, this.bcmPin, this.sysfsNumber, gpioClassDir());
    }
    this.#pin = pin;
    this.#pin.watch(this.#onValue);
    log.debug('opened', { bcmPin: this.bcmPin, sysfs: this.sysfsNumber, debounceTimeout });
  }

  get pressed(): boolean {
    return this.#edges.pressed;
  }

  onEdge(listener: (edge: ButtonEdge) => void): () => void {
    return this.#edges.onEdge(listener);
  }

  readonly #onValue = (err: Error | null | undefined, value: PinValue): void => {
    if (err) {
      // epoll reported a failure; the next edge will read the pin again, so keep going.
      log.warn('button interrupt error', { err, bcmPin: this.bcmPin });
      return;
    }
    // activeLow: 1 means the contact is closed. Same-level reports (a bounce that settled back) are
    // dropped by ButtonEdges.
    this.#edges.level(value === 1, this.#clock());
  };

  /** Stops watching and unexports the pin. Idempotent. */
  async close(): Promise<void> {
    if (this.#edges.closed) return;
    this.#edges.close();
    unexportQuietly(this.#pin, this.bcmPin);
  }
}

function unexportQuietly(pin: GpioPin, bcmPin: number): void {
  try {
    pin.unwatchAll();
    pin.unexport();
  } catch (err) {
    // Nothing the caller could do; the pin stays exported and the next open reuses it.
    log.warn('unexport failed', { err, bcmPin });
  }
}
