// What the e2e tests do to make a radio talk without waiting on its events: the phrase goes into
// the file-fed microphone, the button goes down inside its leading silence (after the mic's settle
// time) and up 250 ms after the last word, as a speaker lets go. RadioPair.talk and the benchmark's
// radio child do the same with their own waits between press and release.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Speech } from '../../firmware/app/demo-speech.js';
import type { FileFedMicrophone } from '../../firmware/app/file-fed-microphone.js';
import type { ScriptedButton } from '../../hardware/sim/scripted-button.js';

export async function sayPhrase(hw: { readonly microphone: FileFedMicrophone; readonly button: ScriptedButton }, speech: Speech): Promise<void> {
  await hw.microphone.load(speech.raw);
  await sleep(speech.leadMs - 150);
  hw.button.press();
  await sleep(speech.speechMs + 250);
  hw.button.release();
}
