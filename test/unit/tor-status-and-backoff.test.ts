import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isClockPlausible, waitForPlausibleClock } from '../../firmware/tor/clock-check.js';
import { ControlReplyParser } from '../../firmware/tor/control-reply-parser.js';
import { defaultBackoff, nextRestart, type BackoffState } from '../../firmware/tor/restart-backoff.js';
import { radioEventForTor } from '../../firmware/app/tor-link.js';
import { ledPatternFor } from '../../firmware/radio/led-patterns.js';
import { createRadioState, transition } from '../../firmware/radio/radio-machine.js';
import type { RadioEvent } from '../../firmware/radio/radio-types.js';
import {
  statusAfterClientEvent,
  statusFromBootstrapPhase,
  TorStatusStream,
  type TorStatus,
} from '../../firmware/tor/tor-status.js';

describe('restart backoff schedule', () => {
  const policy = { initialMs: 1000, factor: 2, maxMs: 30_000, healthyAfterMs: 60_000 };

  it('doubles per consecutive short run and caps at maxMs', () => {
    let state: BackoffState = { failures: 0 };
    const delays: number[] = [];
    for (let i = 0; i < 8; i++) {
      const next = nextRestart(policy, state, 500);
      delays.push(next.delayMs);
      state = next.state;
    }
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  });

  it('starts over after a healthy run', () => {
    let state: BackoffState = { failures: 0 };
    for (let i = 0; i < 4; i++) state = nextRestart(policy, state, 10).state;
    expect(nextRestart(policy, state, 10).delayMs).toBe(16000);
    expect(nextRestart(policy, state, 60_000).delayMs).toBe(1000);
  });

  it('has sane defaults and rejects nonsense policies', () => {
    expect(nextRestart(defaultBackoff, { failures: 0 }, 0).delayMs).toBe(defaultBackoff.initialMs);
    expect(() => nextRestart({ ...policy, factor: 0.5 }, { failures: 0 }, 0)).toThrow(TypeError);
    expect(() => nextRestart({ ...policy, maxMs: 10 }, { failures: 0 }, 0)).toThrow(TypeError);
    expect(() => nextRestart({ ...policy, initialMs: -1 }, { failures: 0 }, 0)).toThrow(TypeError);
  });
});

describe('tor status from STATUS_CLIENT events', () => {
  const events = new ControlReplyParser()
    .push(readFileSync(new URL('../fixtures/tor/bootstrap-events.txt', import.meta.url)))
    .map((r) => r.lines[0]!.text.replace(/^STATUS_CLIENT /, ''));

  it('walks the recorded bootstrap through bootstrapping(progress) to connected', () => {
    let status: TorStatus = { state: 'starting' };
    const seen: string[] = [];
    for (const text of events) {
      status = statusAfterClientEvent(status, text);
      seen.push(status.state === 'bootstrapping' ? `b${status.progress}` : status.state);
    }
    expect(seen).toEqual(['b5', 'b10', 'b14', 'b14', 'b15', 'b40', 'b40', 'b40', 'b75', 'b95', 'connected', 'connected']);
  });

  it('keeps an ignorable WARN bootstrap as plain progress, and a RECOMMENDATION=warn one as a warning', () => {
    const ignore = statusAfterClientEvent({ state: 'starting' }, events[3]!);
    expect(ignore).toEqual({ state: 'bootstrapping', progress: 14, tag: 'handshake', summary: 'Handshaking with a relay' });
    const warn = statusAfterClientEvent(
      { state: 'starting' },
      'WARN BOOTSTRAP PROGRESS=10 TAG=conn_done SUMMARY="Connected to a relay" WARNING="Connection refused" REASON=CONNECTREFUSED COUNT=3 RECOMMENDATION=warn',
    );
    expect(warn).toMatchObject({ state: 'bootstrapping', progress: 10, warning: 'Connection refused' });
  });

  it('ignores malformed or unrelated events', () => {
    const prev: TorStatus = { state: 'bootstrapping', progress: 50, tag: 'x', summary: 'y' };
    for (const text of ['NOTICE BOOTSTRAP PROGRESS=abc', 'NOTICE BOOTSTRAP PROGRESS=101', 'NOTICE BOOTSTRAP', 'WARN SOCKS_BAD_HOSTNAME HOSTNAME="x"', '', 'NOTICE CIRCUIT_NOT_ESTABLISHED REASON=CLOCK_JUMPED']) {
      expect(statusAfterClientEvent(prev, text)).toBe(prev);
    }
  });

  it('drops from connected to bootstrapping when circuits are lost', () => {
    expect(statusAfterClientEvent({ state: 'connected' }, 'NOTICE CIRCUIT_NOT_ESTABLISHED REASON=DIR_ALL_UNREACHABLE')).toMatchObject({
      state: 'bootstrapping',
      summary: 'No circuit: DIR_ALL_UNREACHABLE',
    });
  });

  it('reads GETINFO status/bootstrap-phase', () => {
    expect(statusFromBootstrapPhase('NOTICE BOOTSTRAP PROGRESS=0 TAG=starting SUMMARY="Starting"')).toMatchObject({ state: 'bootstrapping', progress: 0 });
    expect(statusFromBootstrapPhase('NOTICE BOOTSTRAP PROGRESS=100 TAG=done SUMMARY="Done"')).toEqual({ state: 'connected' });
  });

  it('maps every state, through the radio core, to the LED pattern the README documents', () => {
    const led = (status: TorStatus) => {
      const { state } = transition(createRadioState(), { ...radioEventForTor(status), at: 1 } as RadioEvent);
      return ledPatternFor(state).name;
    };
    expect(led({ state: 'starting' })).toBe('bootstrapping');
    expect(led({ state: 'bootstrapping', progress: 5, tag: '', summary: '' })).toBe('bootstrapping');
    expect(led({ state: 'connected' })).toBe('connected');
    expect(led({ state: 'error', error: new Error('x') })).toBe('torError');
    expect(led({ state: 'clockWrong', now: new Date(0), buildTime: new Date(1) })).toBe('clockWrong');
  });

  it('stream tells subscribers about changes only, and waitFor resolves on a match', async () => {
    const stream = new TorStatusStream();
    const seen: string[] = [];
    stream.subscribe((s) => seen.push(s.state));
    stream.set({ state: 'starting' });
    stream.set({ state: 'bootstrapping', progress: 5, tag: 'conn', summary: '' });
    stream.set({ state: 'bootstrapping', progress: 5, tag: 'conn', summary: '' });
    const connected = stream.waitFor((s) => s.state === 'connected');
    stream.set({ state: 'connected' });
    await expect(connected).resolves.toEqual({ state: 'connected' });
    expect(seen).toEqual(['starting', 'bootstrapping', 'connected']);
  });
});

describe('clock check', () => {
  const buildTime = new Date('2026-11-01T00:00:00Z');

  it('accepts a clock at or after the build time', async () => {
    expect(isClockPlausible(buildTime, buildTime)).toBe(true);
    expect(isClockPlausible(new Date('1970-01-01T00:00:10Z'), buildTime)).toBe(false);
    const t = await waitForPlausibleClock({ buildTime, now: () => new Date('2026-11-24T00:00:00Z') });
    expect(t.toISOString()).toBe('2026-11-24T00:00:00.000Z');
  });

  it('reports clockWrong once and waits until time sync moves the clock forward', async () => {
    const clock = [new Date(0), new Date(1000), new Date(2000), new Date('2026-11-24T00:00:00Z')];
    const wrong: Date[] = [];
    const sleeps: number[] = [];
    const t = await waitForPlausibleClock({
      buildTime,
      now: () => clock.shift()!,
      sleep: async (ms) => void sleeps.push(ms),
      recheckMs: 250,
      onClockWrong: (now) => wrong.push(now),
    });
    expect(t.getUTCFullYear()).toBe(2026);
    expect(wrong).toEqual([new Date(0)]);
    expect(sleeps).toEqual([250, 250, 250]);
  });

  it('stops waiting when aborted', async () => {
    const ac = new AbortController();
    const p = waitForPlausibleClock({ buildTime, now: () => new Date(0), recheckMs: 60_000, signal: ac.signal });
    setTimeout(() => ac.abort(new Error('shutting down')), 20);
    await expect(p).rejects.toThrow('shutting down');
  });
});
