// The status LED's blink codes, as data: one light has to say eleven different things, so each
// pattern differs from every other in something a person can see without a stopwatch: steady vs
// blinking vs once, how many blinks per group, the blink rate (at least 2× apart) or how much of the
// time it is lit (at least 25 points apart). test/unit/radio-led-patterns.test.ts checks every pair.
import type { RadioState } from './radio-types.js';

export interface LedStep {
  readonly on: boolean;
  readonly ms: number;
}

export type LedPatternName =
  | 'fault'
  | 'clockWrong'
  | 'recording'
  | 'maxLength'
  | 'playing'
  | 'delivered'
  | 'sending'
  | 'torError'
  | 'unheard'
  | 'bootstrapping'
  | 'connected';

export interface LedPattern {
  readonly name: LedPatternName;
  /** What the radio is telling its user, for the README table. */
  readonly meaning: string;
  /** What a person sees, in words. */
  readonly looksLike: string;
  readonly steps: readonly LedStep[];
  /** Repeating patterns loop until the situation changes; the others play once, then stay dark. */
  readonly repeat: boolean;
}

const on = (ms: number): LedStep => ({ on: true, ms });
const off = (ms: number): LedStep => ({ on: false, ms });

export const ledPatterns: Readonly<Record<LedPatternName, LedPattern>> = {
  fault: {
    name: 'fault',
    meaning: 'hardware fault (microphone, speaker or button): see the log',
    looksLike: 'five fast flickers, then a pause',
    steps: [on(60), off(60), on(60), off(60), on(60), off(60), on(60), off(60), on(60), off(1000)],
    repeat: true,
  },
  clockWrong: {
    name: 'clockWrong',
    meaning: "the clock is wrong, so Tor cannot connect: set the date or give the unit network time",
    looksLike: 'three blinks, then a pause',
    steps: [on(150), off(150), on(150), off(150), on(150), off(1250)],
    repeat: true,
  },
  recording: {
    name: 'recording',
    meaning: 'recording: talk now',
    looksLike: 'steadily on',
    steps: [on(1000)],
    repeat: true,
  },
  maxLength: {
    name: 'maxLength',
    meaning: 'the clip reached its maximum length and was cut off (it is sent): release the button',
    looksLike: 'frantic flicker, ten a second',
    steps: [on(50), off(50)],
    repeat: true,
  },
  playing: {
    name: 'playing',
    meaning: 'playing a received clip',
    looksLike: 'on, dipping dark once a second',
    steps: [on(850), off(150)],
    repeat: true,
  },
  delivered: {
    name: 'delivered',
    meaning: 'a clip was delivered to its recipients',
    looksLike: 'one long flash, once',
    steps: [on(1200), off(300)],
    repeat: false,
  },
  sending: {
    name: 'sending',
    meaning: 'clips are waiting in the outbox or being sent (also while Tor is down)',
    looksLike: 'quick even blinking, three a second',
    steps: [on(150), off(150)],
    repeat: true,
  },
  torError: {
    name: 'torError',
    meaning: 'Tor failed: no clips go in or out until it recovers (see the log)',
    looksLike: 'two blinks, then a pause',
    steps: [on(150), off(150), on(150), off(1550)],
    repeat: true,
  },
  unheard: {
    name: 'unheard',
    meaning: 'a received clip is waiting to be heard',
    looksLike: 'a short blink every second',
    steps: [on(150), off(850)],
    repeat: true,
  },
  bootstrapping: {
    name: 'bootstrapping',
    meaning: 'Tor is starting and connecting to the network',
    looksLike: 'slow even blinking, once a second',
    steps: [on(500), off(500)],
    repeat: true,
  },
  connected: {
    name: 'connected',
    meaning: 'connected and idle: ready to talk',
    looksLike: 'a brief blip every three seconds',
    steps: [on(50), off(2950)],
    repeat: true,
  },
};

/** When several situations hold at once, the first in this list shows. */
export const ledPriority: readonly LedPatternName[] = [
  'fault',
  'clockWrong',
  'recording',
  'maxLength',
  'playing',
  'delivered',
  'sending',
  'torError',
  'unheard',
  'bootstrapping',
  'connected',
];

const applies: Readonly<Record<LedPatternName, (s: RadioState) => boolean>> = {
  fault: (s) => s.faults.length > 0,
  clockWrong: (s) => s.tor.kind === 'clockWrong',
  recording: (s) => s.activity.kind === 'recording',
  maxLength: (s) => s.activity.kind === 'heldPastLimit' || s.notice?.kind === 'maxLength',
  playing: (s) => s.activity.kind === 'playing',
  delivered: (s) => s.notice?.kind === 'delivered',
  sending: (s) => s.outgoing.length > 0,
  torError: (s) => s.tor.kind === 'error',
  unheard: (s) => s.unheard.length > 0,
  bootstrapping: (s) => s.tor.kind === 'starting' || s.tor.kind === 'bootstrapping',
  connected: (s) => s.tor.kind === 'connected',
};

/** The pattern the LED shows for a state. Pure; the shell calls it after every transition. */
export function ledPatternFor(state: RadioState): LedPattern {
  for (const name of ledPriority) if (applies[name](state)) return ledPatterns[name];
  // Unreachable: every tor state is covered by one of the last four rules.
  return ledPatterns.connected;
}
