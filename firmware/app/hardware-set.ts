// Which Button, Led, Microphone and Speaker a radio runs on, decided once at start-up:
//   device  GPIO17 button and GPIO27 LED (onoff), the I2S MEMS mic and amplifier (i2s-audio addon)
//   sim     the space bar and a terminal LED; the laptop's default ALSA devices, or raw files
//           (ALSA file PCMs through the same addon) for the mic and speaker.
// The radio app only sees the four interfaces; tests and the demo build their own sets the same way.
import type { Button } from '../../hardware/button.js';
import type { Led } from '../../hardware/led.js';
import type { Microphone } from '../../hardware/microphone.js';
import type { Speaker } from '../../hardware/speaker.js';
import { GpioButton } from '../../hardware/gpio/gpio-button.js';
import { GpioLed } from '../../hardware/gpio/gpio-led.js';
import { AlsaMicrophone } from '../../hardware/i2s-audio/alsa-microphone.js';
import { AlsaSpeaker } from '../../hardware/i2s-audio/alsa-speaker.js';
import { KeyboardButton, type KeyboardButtonOptions } from '../../hardware/sim/keyboard-button.js';
import { createSimMicrophone, createSimSpeaker } from '../../hardware/sim/sim-audio.js';
import { TerminalLed, type LedOutput } from '../../hardware/sim/terminal-led.js';

export interface HardwareSet {
  readonly button: Button;
  readonly led: Led;
  readonly microphone: Microphone;
  readonly speaker: Speaker;
}

/** Closes every part, each even if another fails; the first error is rethrown after all are closed. */
export async function closeHardware(set: HardwareSet): Promise<void> {
  const results = await Promise.allSettled([set.button.close(), set.led.close(), set.microphone.close(), set.speaker.close()]);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/** ALSA names of the device's sound card "torlk" (overlay hardware/design/torlk-i2s.dts; config.txt `dtoverlay=torlk-i2s`). */
export const DEVICE_AUDIO = {
  // dai-link 0: the I2S MEMS mic through dmic-codec, S32_LE stereo slots.
  microphone: 'hw:CARD=torlk,DEV=0',
  // dai-link 1: the MAX98357A. plughw: the I2S controller runs both directions on one clock, so a
  // second stream gets the first one's rate and sample width (the always-open mic's 16 kHz S32);
  // the plug converts our S16. Not yet checked on a board (no I2S hardware where this was written).
  speaker: 'plughw:CARD=torlk,DEV=1',
} as const;

/** The handheld: throws GpioUnavailableError off a Pi (says why), MicrophoneError without the codec. */
export async function deviceHardware(): Promise<HardwareSet> {
  const button = await GpioButton.open();
  let led: GpioLed | undefined;
  try {
    led = await GpioLed.open();
    // I2S MEMS mics deliver 24-bit samples in 32-bit stereo slots, quiet: settings from hardware/i2s-audio/README.md.
    const microphone = new AlsaMicrophone({ device: DEVICE_AUDIO.microphone, format: 'S32_LE', channels: 2, slot: 0, gainDb: 27 });
    const speaker = new AlsaSpeaker({ device: DEVICE_AUDIO.speaker, format: 'S16_LE', channels: 2, rate: 16000 }); // the mic's rate: one I2S clock serves both, so no resampling
    return { button, led, microphone, speaker };
  } catch (err) {
    await button.close();
    await led?.close();
    throw err;
  }
}

export interface SimHardwareOptions {
  /** Raw S16_LE mono input played into the mic in real time from the radio's start; default: the default ALSA capture device. */
  readonly micRaw?: string;
  /** Sample rate of micRaw (an Opus rate; default 16000). */
  readonly micRate?: number;
  /** Raw S16_LE mono output file (rewritten for every clip); default: the default ALSA playback device. */
  readonly speakerFile?: string;
  readonly speakerRate?: number;
  readonly keyboard?: KeyboardButtonOptions;
  readonly ledOutput?: LedOutput;
}

/** Laptop mode: space bar, terminal LED, and the default sound devices unless files are given. */
export function simHardware(o: SimHardwareOptions = {}): HardwareSet {
  const microphone = o.micRaw !== undefined ? createSimMicrophone({ infile: o.micRaw, rate: o.micRate ?? 16000 }) : new AlsaMicrophone({ device: 'default' });
  const speaker =
    o.speakerFile !== undefined
      ? createSimSpeaker({ outfile: o.speakerFile, rate: o.speakerRate ?? 16000, pace: true })
      : new AlsaSpeaker({ device: 'default', rate: o.speakerRate ?? 48000 });
  const button = new KeyboardButton(o.keyboard);
  const led = new TerminalLed(o.ledOutput ? { output: o.ledOutput } : {});
  return { button, led, microphone, speaker };
}
