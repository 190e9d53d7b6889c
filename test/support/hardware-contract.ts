// One contract for every Button and every Led, run against the simulated twins, the GPIO drivers on
// simulated pins, and real GPIO when TORLK_HW=1 (serialport's testBinding pattern).
// A rig wraps one implementation and knows how to drive it from outside and what it shows.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Button, ButtonEdge } from '../../hardware/button.js';
import type { Led } from '../../hardware/led.js';
import { setLogSink } from '../../firmware/log.js';

export interface ButtonRig {
  readonly button: Button;
  /**
   * Puts the contact in a state (true = switch closed, the user holds the button) and resolves
   * once the implementation has had time to report it, debounce and release heuristics included.
   */
  setContact(closed: boolean): Promise<void>;
  /**
   * Makes the contact chatter `toggles` times faster than the debounce window, ending closed or
   * open, then waits until it settles. Only for implementations that see a raw contact.
   */
  chatter?(toggles: number, endClosed: boolean): Promise<void>;
  dispose(): Promise<void>;
}

export interface ButtonContractOptions {
  /** fast-check runs for the random-sequence property; slow rigs (real timers) use fewer. */
  propertyRuns?: number;
  /** Longest press/release sequence the property tries. */
  maxSequence?: number;
}

export interface LedRig {
  readonly led: Led;
  /** What the light shows now, observed from outside the driver. */
  lit(): boolean;
  /** Whether the pin (or terminal) was given back. */
  released(): boolean;
  dispose(): Promise<void>;
}

function record(button: Button): { edges: ButtonEdge[]; stop: () => void } {
  const edges: ButtonEdge[] = [];
  const stop = button.onEdge((e) => edges.push(e));
  return { edges, stop };
}

async function withRig<R extends { dispose(): Promise<void> }>(make: () => Promise<R>, body: (rig: R) => Promise<void>): Promise<void> {
  const rig = await make();
  try {
    await body(rig);
  } finally {
    await rig.dispose();
  }
}

export function buttonContract(name: string, makeRig: () => Promise<ButtonRig>, options: ButtonContractOptions = {}): void {
  describe(`Button contract: ${name}`, () => {
    it('starts released and reports press then release, with ordered monotonic timestamps', () =>
      withRig(makeRig, async ({ button, setContact }) => {
        expect(button.pressed).toBe(false);
        const { edges } = record(button);
        const t0 = performance.now();
        await setContact(true);
        expect(button.pressed).toBe(true);
        await setContact(false);
        expect(button.pressed).toBe(false);
        const t1 = performance.now();
        expect(edges.map((e) => e.kind)).toEqual(['press', 'release']);
        const [press, release] = edges as [ButtonEdge, ButtonEdge];
        expect(press.at).toBeGreaterThanOrEqual(t0);
        expect(release.at).toBeGreaterThanOrEqual(press.at);
        expect(release.at).toBeLessThanOrEqual(t1);
      }));

    it('reports a held contact once, not once per repeated report', () =>
      withRig(makeRig, async ({ button, setContact }) => {
        const { edges } = record(button);
        await setContact(true);
        await setContact(true);
        await setContact(false);
        await setContact(false);
        expect(edges.map((e) => e.kind)).toEqual(['press', 'release']);
      }));

    it('alternates press and release for any contact sequence and ends in the contact state', async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(fc.boolean(), { minLength: 1, maxLength: options.maxSequence ?? 8 }), async (contacts) =>
          withRig(makeRig, async ({ button, setContact }) => {
            const { edges } = record(button);
            for (const closed of contacts) await setContact(closed);
            const last = contacts[contacts.length - 1]!;
            expect(button.pressed).toBe(last);
            // Expected edges: one per change of contact state, starting from released.
            let state = false;
            const expected: string[] = [];
            for (const closed of contacts) {
              if (closed !== state) expected.push(closed ? 'press' : 'release');
              state = closed;
            }
            expect(edges.map((e) => e.kind)).toEqual(expected);
            for (let i = 1; i < edges.length; i++) expect(edges[i]!.at).toBeGreaterThanOrEqual(edges[i - 1]!.at);
          }),
        ),
        { numRuns: options.propertyRuns ?? 25 },
      );
    });

    it('filters contact bounce: chatter inside the debounce window yields one edge per settled change', async () => {
      const rig = await makeRig();
      try {
        if (!rig.chatter) {
          // No raw contact to bounce (scripted and keyboard twins emit clean edges): the contract
          // for them is the repeated-report case above. Assert that, so this case still tests.
          const { edges } = record(rig.button);
          await rig.setContact(true);
          await rig.setContact(true);
          expect(edges.map((e) => e.kind)).toEqual(['press']);
          return;
        }
        const { edges } = record(rig.button);
        await rig.chatter(7, true);
        expect(edges.map((e) => e.kind)).toEqual(['press']);
        expect(rig.button.pressed).toBe(true);
        await rig.chatter(6, true); // bounces that settle back closed: nothing new
        expect(edges.map((e) => e.kind)).toEqual(['press']);
        await rig.chatter(5, false);
        expect(edges.map((e) => e.kind)).toEqual(['press', 'release']);
      } finally {
        await rig.dispose();
      }
    });

    it('stops delivering to an unsubscribed listener and survives a throwing one', () =>
      withRig(makeRig, async ({ button, setContact }) => {
        const a: ButtonEdge[] = [];
        const b: ButtonEdge[] = [];
        const logged: string[] = [];
        const stopA = button.onEdge((e) => a.push(e));
        button.onEdge(() => {
          throw new Error('listener bug');
        });
        button.onEdge((e) => b.push(e));
        const previous = setLogSink((line) => logged.push(line));
        try {
          await setContact(true);
          stopA();
          await setContact(false);
        } finally {
          setLogSink(previous);
        }
        expect(a.map((e) => e.kind)).toEqual(['press']);
        expect(b.map((e) => e.kind)).toEqual(['press', 'release']);
        // The bug is reported, once per edge, not swallowed.
        expect(logged.filter((l) => l.includes('listener bug'))).toHaveLength(2);
      }));

    it('close is idempotent and no edge arrives after it, even mid-press', () =>
      withRig(makeRig, async ({ button, setContact }) => {
        const { edges } = record(button);
        await setContact(true);
        await button.close();
        await button.close();
        await setContact(false);
        await setContact(true);
        expect(edges.map((e) => e.kind)).toEqual(['press']);
        const late: ButtonEdge[] = [];
        button.onEdge((e) => late.push(e));
        await setContact(false);
        expect(late).toEqual([]);
      }));
  });
}

export function ledContract(name: string, makeRig: () => Promise<LedRig>): void {
  describe(`Led contract: ${name}`, () => {
    it('starts dark and follows writes', () =>
      withRig(makeRig, async ({ led, lit }) => {
        expect(lit()).toBe(false);
        led.write(true);
        expect(lit()).toBe(true);
        led.write(true);
        expect(lit()).toBe(true);
        led.write(false);
        expect(lit()).toBe(false);
        for (let i = 0; i < 50; i++) {
          led.write(i % 3 === 0);
          expect(lit()).toBe(i % 3 === 0);
        }
      }));

    it('accepts describe() hints, when it has them, without changing the light', () =>
      withRig(makeRig, async ({ led, lit }) => {
        led.write(true);
        led.describe?.('connected');
        expect(lit()).toBe(true);
      }));

    it('close darkens a lit LED, releases it, and is idempotent', () =>
      withRig(makeRig, async ({ led, lit, released }) => {
        led.write(true);
        await led.close();
        expect(lit()).toBe(false);
        expect(released()).toBe(true);
        await led.close();
        expect(released()).toBe(true);
      }));

    it('ignores writes after close', () =>
      withRig(makeRig, async ({ led, lit }) => {
        await led.close();
        expect(() => led.write(true)).not.toThrow();
        expect(lit()).toBe(false);
      }));
  });
}
