// The status LED on a GPIO pin: an output that starts low (dark), driven by the pattern player.
import type { Led } from '../led.js';
import { createLog } from '../../firmware/log.js';
import { gpioSetupError, GpioIoError } from './gpio-errors.js';
import { loadOnoffGpio, type GpioPin, type GpioPinClass } from './gpio-pin.js';
import { assertExportWritable, DEFAULT_SYSFS_ROOT, gpioClassDir, sysfsGpioNumber } from './sysfs-base.js';

const log = createLog('gpio-led');

export const LED_BCM_PIN = 27;

export interface GpioLedOptions {
  bcmPin: number;
  sysfsNumber: number;
  Gpio: GpioPinClass;
}

export interface OpenGpioLedOptions {
  bcmPin?: number;
  sysfsRoot?: string;
  Gpio?: GpioPinClass;
}

export class GpioLed implements Led {
  readonly bcmPin: number;
  readonly sysfsNumber: number;
  readonly #pin: GpioPin;
  #on = false;
  #closed = false;

  static async open(options: OpenGpioLedOptions = {}): Promise<GpioLed> {
    const root = options.sysfsRoot ?? DEFAULT_SYSFS_ROOT;
    const bcmPin = options.bcmPin ?? LED_BCM_PIN;
    const sysfsNumber = sysfsGpioNumber(bcmPin, root);
    let Gpio = options.Gpio;
    if (!Gpio) {
      assertExportWritable(root);
      Gpio = await loadOnoffGpio();
    }
    return new GpioLed({ bcmPin, sysfsNumber, Gpio });
  }

  constructor(options: GpioLedOptions) {
    this.bcmPin = options.bcmPin;
    this.sysfsNumber = options.sysfsNumber;
    try {
      // 'low' sets the direction and the level in one step, so the LED never flashes at start.
      this.#pin = new options.Gpio(this.sysfsNumber, 'low');
    } catch (err) {
      throw gpioSetupError(err, this.bcmPin, this.sysfsNumber, gpioClassDir());
    }
    log.debug('opened', { bcmPin: this.bcmPin, sysfs: this.sysfsNumber });
  }

  /**
   * Skips writes that would not change the level: the pattern player calls this often, and each
   * sysfs write is a syscall. Throws GpioIoError if the kernel refuses the write.
   */
  write(on: boolean): void {
    if (this.#closed || on === this.#on) return;
    try {
      this.#pin.writeSync(on ? 1 : 0);
    } catch (err) {
      throw new GpioIoError(this.bcmPin, 'write', { cause: err });
    }
    this.#on = on;
  }

  /** Darkens the LED and unexports the pin. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#pin.writeSync(0);
    } catch (err) {
      log.warn('could not darken LED at close', { err, bcmPin: this.bcmPin });
    }
    try {
      this.#pin.unexport();
    } catch (err) {
      log.warn('unexport failed', { err, bcmPin: this.bcmPin });
    }
  }
}
