// The shared Button/Led contract, run against the simulated twins shipped for tests and laptop mode.
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { buttonContract, ledContract } from '../support/hardware-contract.js';
import { ScriptedButton } from '../../hardware/sim/scripted-button.js';
import { KeyboardButton } from '../../hardware/sim/keyboard-button.js';
import { RecordingLed } from '../../hardware/sim/recording-led.js';
import { TerminalLed } from '../../hardware/sim/terminal-led.js';

buttonContract('ScriptedButton', async () => {
  const button = new ScriptedButton();
  return {
    button,
    setContact: async (closed) => (closed ? button.press() : button.release()),
    dispose: () => button.close(),
  };
});

// The keyboard rig plays a terminal: one space on key-down, auto-repeats after a delay while held.
const FIRST_REPEAT_MS = 60;
const REPEAT_GAP_MS = 30;
buttonContract(
  'KeyboardButton',
  async () => {
    const input = new PassThrough();
    const button = new KeyboardButton({ input, firstRepeatMs: FIRST_REPEAT_MS, repeatGapMs: REPEAT_GAP_MS, onInterrupt: () => {} });
    let repeat: NodeJS.Timeout | undefined;
    let delay: NodeJS.Timeout | undefined;
    let held = false;
    const stop = () => {
      clearTimeout(delay);
      clearInterval(repeat);
      repeat = delay = undefined;
    };
    return {
      button,
      async setContact(closed) {
        if (closed && !held) {
          held = true;
          input.write(' ');
          delay = setTimeout(() => {
            repeat = setInterval(() => input.write(' '), 10);
          }, FIRST_REPEAT_MS / 2);
          await sleep(5);
        } else if (!closed && held) {
          held = false;
          stop();
          await sleep(FIRST_REPEAT_MS + 40);
        } else {
          await sleep(5);
        }
      },
      async dispose() {
        stop();
        await button.close();
        input.destroy();
      },
    };
  },
  { propertyRuns: 4, maxSequence: 5 },
);

ledContract('RecordingLed', async () => {
  const led = new RecordingLed();
  return { led, lit: () => led.on, released: () => led.closed, dispose: () => led.close() };
});

ledContract('TerminalLed (terminal output)', async () => {
  const written: string[] = [];
  const led = new TerminalLed({ output: { isTTY: true, write: (s: string) => written.push(s) } });
  return { led, lit: () => led.on, released: () => led.closed, dispose: () => led.close() };
});
