// The shared Button/Led contract against the GPIO drivers: first on simulated pins (real driver
// code, onoff-compatible fake lines), then on real GPIO when TORLK_HW=1.
import { existsSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe } from 'vitest';
import { buttonContract, ledContract, type ButtonRig, type LedRig } from '../support/hardware-contract.js';
import { GpioButton } from '../../hardware/gpio/gpio-button.js';
import { GpioLed } from '../../hardware/gpio/gpio-led.js';
import { SimulatedGpioBank } from '../../hardware/gpio/simulated-gpio.js';
import { loadOnoffGpio, type GpioPin, type GpioPinClass, type PinValue } from '../../hardware/gpio/gpio-pin.js';
import { sysfsGpioNumber } from '../../hardware/gpio/sysfs-base.js';

const DEBOUNCE_MS = 20;
const SETTLE_MS = DEBOUNCE_MS + 25;

/**
 * Drives a line like a bouncing switch: a burst of toggles, then the final level, then settle time.
 * The burst is synchronous, as real contact bounce is (microseconds apart), so a busy test machine
 * cannot stretch the gaps past the debounce window and turn bounce into real presses.
 */
async function bounce(drive: (level: PinValue) => void, toggles: number, endClosed: boolean): Promise<void> {
  const end: PinValue = endClosed ? 0 : 1;
  for (let i = 0; i < toggles; i++) drive((i % 2 === 0 ? end : 1 - end) as PinValue);
  drive(end);
  await sleep(SETTLE_MS);
}

buttonContract(
  'GpioButton on simulated pins (base 512)',
  async (): Promise<ButtonRig> => {
    const bank = new SimulatedGpioBank();
    const button = new GpioButton({ bcmPin: 17, sysfsNumber: 529, Gpio: bank.Gpio, debounceMs: DEBOUNCE_MS });
    const drive = (level: PinValue) => bank.drive(529, level);
    return {
      button,
      async setContact(closed) {
        drive(closed ? 0 : 1);
        await sleep(SETTLE_MS);
      },
      chatter: (toggles, endClosed) => bounce(drive, toggles, endClosed),
      dispose: () => button.close(),
    };
  },
  { propertyRuns: 6, maxSequence: 6 },
);

ledContract('GpioLed on simulated pins', async (): Promise<LedRig> => {
  const bank = new SimulatedGpioBank({ idleLevel: 0 });
  const led = new GpioLed({ bcmPin: 27, sysfsNumber: 539, Gpio: bank.Gpio });
  return { led, lit: () => bank.level(539) === 1, released: () => !bank.isExported(539), dispose: () => led.close() };
});

// Real half. Needs a Pi with the user in the gpio group, and a jumper (through a 1 kΩ resistor)
// from the loopback pin (default GPIO22, header pin 15) to the button pin GPIO17 (pin 11), so the
// test can close the "contact" itself. See hardware/README.md.
const HW = process.env.TORLK_HW === '1';
const LOOPBACK = Number(process.env.TORLK_HW_LOOPBACK_PIN ?? 22);
const REASON = 'real GPIO contract skipped: set TORLK_HW=1 on a Raspberry Pi (GPIO22 jumpered to GPIO17)';
if (!HW) console.info(REASON);

/** Wraps onoff's Gpio so the test sees the last level the driver wrote, even after unexport. */
function spyOn(Gpio: GpioPinClass): { Gpio: GpioPinClass; last: Map<number, PinValue> } {
  const last = new Map<number, PinValue>();
  class Spy {
    readonly inner: GpioPin;
    constructor(readonly n: number, ...rest: ConstructorParameters<GpioPinClass> extends [number, ...infer R] ? R : never) {
      this.inner = new Gpio(n, ...rest);
      if (rest[0] === 'low' || rest[0] === 'high') last.set(n, rest[0] === 'high' ? 1 : 0);
    }
    readSync = () => this.inner.readSync();
    writeSync = (v: PinValue) => {
      this.inner.writeSync(v);
      last.set(this.n, v);
    };
    watch: GpioPin['watch'] = (cb) => this.inner.watch(cb);
    unwatchAll = () => this.inner.unwatchAll();
    unexport = () => this.inner.unexport();
  }
  return { Gpio: Spy as unknown as GpioPinClass, last };
}

describe.skipIf(!HW)(HW ? 'real GPIO' : REASON, () => {
  buttonContract(
    'GpioButton on real GPIO17',
    async (): Promise<ButtonRig> => {
      const Gpio = await loadOnoffGpio();
      const driver = new Gpio(sysfsGpioNumber(LOOPBACK), 'high');
      const button = await GpioButton.open({ Gpio });
      const drive = (level: PinValue) => driver.writeSync(level);
      return {
        button,
        async setContact(closed) {
          drive(closed ? 0 : 1);
          await sleep(SETTLE_MS);
        },
        chatter: (toggles, endClosed) => bounce(drive, toggles, endClosed),
        async dispose() {
          await button.close();
          driver.unexport();
        },
      };
    },
    { propertyRuns: 5, maxSequence: 6 },
  );

  ledContract('GpioLed on real GPIO27', async (): Promise<LedRig> => {
    const spy = spyOn(await loadOnoffGpio());
    const led = await GpioLed.open({ Gpio: spy.Gpio });
    const valuePath = `/sys/class/gpio/gpio${led.sysfsNumber}/value`;
    return {
      led,
      lit: () => (existsSync(valuePath) ? readFileSync(valuePath, 'utf8').trim() === '1' : spy.last.get(led.sysfsNumber) === 1),
      released: () => !existsSync(valuePath),
      dispose: () => led.close(),
    };
  });
});
