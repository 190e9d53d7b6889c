// The presence watch that notices a contact with queued clips is back (their onion published a new
// descriptor): a scripted control client answers HSFETCH with HS_DESC events and GETINFO
// hs/client/desc/id with a descriptor whose revision-counter each test chooses; the watch's timer is
// a hand-run scheduler. The outer-layer parser is checked on its own. Real tor answering HSFETCH and
// GETINFO, and a restarted service changing its counter, run in test/integration/tor-onion.test.ts.
import { FakeControlEvents } from './fake-control-events.js';
import { afterEach, describe, expect, it } from 'vitest';
import type { Reply } from '../../firmware/tor/control-reply-parser.js';
import { ControlClosedError, ControlReplyError } from '../../firmware/tor/errors.js';
import { OnionDescriptorError, parseOuterRevisionCounter } from '../../firmware/tor/hs-descriptor-outer.js';
import type { RefetchControl } from '../../firmware/tor/hs-desc-fetch.js';
import { onionKeyFromSeed } from '../../firmware/tor/onion-key.js';
import { OnionPresenceWatch, type OnionPresenceWatchOptions } from '../../firmware/tor/onion-presence.js';

const bob = onionKeyFromSeed(Buffer.alloc(32, 1)).serviceId;
const carol = onionKeyFromSeed(Buffer.alloc(32, 2)).serviceId;
const onion = (id: string) => `${id}.onion`;

/** An outer descriptor layer as tor prints it (blocks shortened). */
const descriptor = (counter: string) =>
  [
    'hs-descriptor 3',
    'descriptor-lifetime 180',
    'descriptor-signing-key-cert',
    '-----BEGIN ED25519 CERT-----',
    'AQgABvvmAS+5rZ2hG0hmXKJf1sVw2SLxTu4D3qYzN8vJYpB1Ec8KAQAgBAA3kHm2',
    '-----END ED25519 CERT-----',
    `revision-counter ${counter}`,
    'superencrypted',
    '-----BEGIN MESSAGE-----',
    'rR0vwZ0Jv8h4lGqEuAzZmT6bWfHn2D7q+revision/counter9Q==',
    '-----END MESSAGE-----',
    'signature 3pQ1n8uX0wY2wqGz4Kk2p3h1W0h5oZz1Y9lq8b0kqY0',
  ].join('\n');

/** How the fake tor answers one HSFETCH of an onion. */
type Answer = { received: string } | { failed: string } | 'silent' | 'refuse';

class FakeTor extends FakeControlEvents implements RefetchControl {
  readonly commands: string[] = [];
  /** Scripted answers per service id, used in order; the last one repeats. */
  readonly answers = new Map<string, Answer[]>();
  /** The descriptor tor's client cache holds per service id (what GETINFO returns). */
  readonly cache = new Map<string, string>();
  fetching = 0;
  maxFetching = 0;
  closed = false;

  async command(line: string): Promise<Reply> {
    this.commands.push(line);
    if (this.closed) throw new ControlClosedError('control connection closed before tor answered');
    const fetch = /^HSFETCH (\S+)$/.exec(line)?.[1];
    if (fetch) return this.#hsfetch(fetch);
    const info = /^GETINFO hs\/client\/desc\/id\/(\S+)$/.exec(line)?.[1];
    if (info) {
      const counter = this.cache.get(info);
      if (counter === undefined) throw new ControlReplyError('GETINFO', 551, 'Not found in cache');
      return {
        code: 250,
        lines: [
          { code: 250, sep: '+', text: `hs/client/desc/id/${info}=`, data: descriptor(counter) },
          { code: 250, sep: ' ', text: 'OK' },
        ],
      };
    }
    return { code: 250, lines: [{ code: 250, sep: ' ', text: 'OK' }] };
  }

  #hsfetch(id: string): Reply {
    const list = this.answers.get(id) ?? [];
    const answer = list.length > 1 ? list.shift()! : (list[0] ?? 'silent');
    if (answer === 'refuse') throw new ControlReplyError('HSFETCH', 552, 'Unrecognized command');
    this.fetching++;
    this.maxFetching = Math.max(this.maxFetching, this.fetching);
    // Tor answers 250 at once; the outcome follows a little later as events, another onion's interleaved.
    setTimeout(() => {
      this.fetching--;
      this.emit(`REQUESTED ${id} NO_AUTH $AAAA~test003r blinded`);
      this.emit(`RECEIVED ${id === bob ? carol : bob} NO_AUTH $AAAA~test003r desc`);
      if (answer === 'silent') return;
      if ('received' in answer) {
        this.cache.set(id, answer.received);
        this.emit(`RECEIVED ${id} NO_AUTH $AAAA~test003r desc`);
      } else {
        this.emit(`FAILED ${id} NO_AUTH $AAAA~test003r desc REASON=${answer.failed}`);
      }
    }, 5);
    return { code: 250, lines: [{ code: 250, sep: ' ', text: 'OK' }] };
  }


  async subscribe(): Promise<void> {}


  hsfetches(id?: string): string[] {
    return this.commands.filter((c) => c.startsWith('HSFETCH') && (id === undefined || c === `HSFETCH ${id}`));
  }
}

/** A scheduler run by hand: the watch's next round waits here until the test runs it. */
class ManualTimers {
  readonly pending: { fn: () => void; ms: number; cancelled: boolean }[] = [];
  readonly schedule: NonNullable<OnionPresenceWatchOptions['schedule']> = (fn, ms) => {
    const t = { fn, ms, cancelled: false };
    this.pending.push(t);
    return () => (t.cancelled = true);
  };

  get live() {
    return this.pending.filter((t) => !t.cancelled);
  }

  /** Runs the next live timer; resolves once the round it started is over and the next is scheduled. */
  async fire(): Promise<void> {
    const t = this.pending.shift();
    if (!t) throw new Error('no timer scheduled');
    if (t.cancelled) return this.fire();
    const before = this.pending.length;
    t.fn();
    for (let i = 0; i < 200 && this.pending.length === before; i++) await new Promise((r) => setTimeout(r, 5));
  }
}

const watches: OnionPresenceWatch[] = [];
afterEach(() => {
  for (const w of watches.splice(0)) w.stop();
});

function setup(hosts: string[] = [onion(bob)], options: Partial<OnionPresenceWatchOptions> = {}) {
  const tor = new FakeTor();
  const timers = new ManualTimers();
  const fresh: string[] = [];
  const watch = new OnionPresenceWatch({
    control: () => tor,
    hosts: () => hosts,
    onFresh: (o) => fresh.push(o),
    schedule: timers.schedule,
    random: () => 0.5,
    fetchTimeoutMs: 200,
    ...options,
  });
  watches.push(watch);
  return { tor, timers, fresh, watch, hosts };
}

describe('parseOuterRevisionCounter', () => {
  it('reads the outer revision-counter, 64-bit values included', () => {
    expect(parseOuterRevisionCounter(descriptor('1234567'))).toBe('1234567');
    expect(parseOuterRevisionCounter(descriptor('18446744073709551615'))).toBe('18446744073709551615');
    expect(parseOuterRevisionCounter(descriptor('007'))).toBe('7');
    expect(parseOuterRevisionCounter(descriptor('42').replace(/\n/g, '\r\n'))).toBe('42');
  });

  it('rejects what is not a v3 outer layer with exactly one valid counter, naming the onion', () => {
    const bad = [
      descriptor('1').replace('hs-descriptor 3', 'hs-descriptor 2'),
      descriptor('1').replace(/revision-counter 1\n/, ''),
      descriptor('1').replace('superencrypted', 'revision-counter 2\nsuperencrypted'),
      descriptor('-1'),
      descriptor('12a'),
      descriptor('18446744073709551616'),
      '',
    ];
    for (const text of bad) expect(() => parseOuterRevisionCounter(text, bob)).toThrow(OnionDescriptorError);
    expect(() => parseOuterRevisionCounter(descriptor('x'), bob)).toThrow(new RegExp(bob));
  });
});

describe('OnionPresenceWatch', () => {
  it('waits one interval (with jitter) before the first round, and the first look only records', async () => {
    const { tor, timers, fresh, watch } = setup([onion(bob)], { intervalMs: 60_000, jitter: 0.2, random: () => 0 });
    tor.answers.set(bob, [{ received: '100' }]);
    watch.start();
    expect(timers.live.map((t) => t.ms)).toEqual([54_000]);
    expect(tor.commands).toEqual([]);
    await timers.fire();
    expect(tor.commands).toEqual([`HSFETCH ${bob}`, `GETINFO hs/client/desc/id/${bob}`]);
    expect(watch.lastCounter(onion(bob))).toBe('100');
    expect(fresh).toEqual([]);
    expect(timers.live).toHaveLength(1); // the next round is scheduled
  });

  it('calls the listener once when the counter changed, and not while it stays the same', async () => {
    const { tor, timers, fresh, watch } = setup();
    tor.answers.set(bob, [{ received: '100' }, { received: '100' }, { received: '250' }, { received: '250' }, { received: '250' }]);
    watch.start();
    for (let i = 0; i < 5; i++) await timers.fire();
    expect(tor.hsfetches(bob)).toHaveLength(5);
    expect(fresh).toEqual([onion(bob)]);
    expect(watch.lastCounter(bob)).toBe('250');
  });

  it('a NOT_FOUND records "gone"; a descriptor after it is fresh, the same old one is not', async () => {
    // bob was on (100), then off past his descriptor's lifetime, then back (300).
    const back = setup();
    back.tor.answers.set(bob, [{ received: '100' }, { failed: 'NOT_FOUND' }, { failed: 'NOT_FOUND' }, { received: '300' }]);
    for (let i = 0; i < 4; i++) await back.watch.checkNow();
    expect(back.fresh).toEqual([onion(bob)]);

    // Already gone at the first look: whatever comes later is new.
    const goneFirst = setup();
    goneFirst.tor.answers.set(bob, [{ failed: 'NOT_FOUND' }, { received: '300' }]);
    await goneFirst.watch.checkNow();
    expect(goneFirst.fresh).toEqual([]);
    await goneFirst.watch.checkNow();
    expect(goneFirst.fresh).toEqual([onion(bob)]);

    // One HSDir lost it, another still serves the same old descriptor: not news.
    const stale = setup();
    stale.tor.answers.set(bob, [{ received: '100' }, { failed: 'NOT_FOUND' }, { received: '100' }]);
    for (let i = 0; i < 3; i++) await stale.watch.checkNow();
    expect(stale.fresh).toEqual([]);
  });

  it('does not count inconclusive answers: other FAILED reasons, silence, a descriptor tor does not hold', async () => {
    const { tor, fresh, watch } = setup();
    tor.answers.set(bob, [{ received: '100' }, { failed: 'QUERY_NO_HSDIR' }, 'silent', { received: '100' }]);
    await watch.checkNow();
    await watch.checkNow();
    await watch.checkNow(); // times out after 200 ms
    await watch.checkNow();
    expect(fresh).toEqual([]);
    expect(watch.lastCounter(bob)).toBe('100');

    // An inconclusive first look is no look: the first descriptor after it only records.
    const noHsdir = setup();
    noHsdir.tor.answers.set(bob, [{ failed: 'QUERY_NO_HSDIR' }, { received: '300' }]);
    await noHsdir.watch.checkNow();
    await noHsdir.watch.checkNow();
    expect(noHsdir.fresh).toEqual([]);
    expect(noHsdir.watch.lastCounter(bob)).toBe('300');

    // RECEIVED but GETINFO answers 551 (evicted meanwhile): skipped, nothing recorded.
    const evicted = setup();
    evicted.tor.answers.set(bob, [{ received: '5' }]);
    await evicted.watch.checkNow();
    evicted.tor.cache.delete(bob);
    evicted.tor.answers.set(bob, [{ failed: 'QUERY_REJECTED' }]);
    evicted.tor.emit('noise'); // unrelated event text is ignored
    await evicted.watch.checkNow();
    expect(evicted.watch.lastCounter(bob)).toBe('5');
  });

  it('watches nothing (and asks tor nothing) while no onion has clips waiting; non-onion hosts are ignored', async () => {
    const { tor, timers, watch, hosts } = setup([]);
    watch.start();
    await timers.fire();
    await timers.fire();
    hosts.push('127.0.0.1', 'example.org', 'notanonion.onion');
    await timers.fire();
    expect(tor.commands).toEqual([]);
    expect(timers.live).toHaveLength(1); // still polling the list, for clips queued later
  });

  it('forgets an onion once nothing waits for it: the next look records afresh', async () => {
    const { tor, fresh, watch, hosts } = setup();
    tor.answers.set(bob, [{ received: '100' }, { received: '200' }]);
    await watch.checkNow();
    hosts.length = 0; // bob's clips were delivered
    await watch.checkNow();
    expect(watch.lastCounter(bob)).toBeUndefined();
    hosts.push(onion(bob)); // new clips for bob, hours later
    await watch.checkNow();
    expect(fresh).toEqual([]);
    expect(watch.lastCounter(bob)).toBe('200');
  });

  it('fetches one onion at a time, each once per round, even when rounds are asked for together', async () => {
    const { tor, fresh, watch } = setup([onion(bob), onion(carol), `${bob.toUpperCase()}.ONION`, onion(bob)]);
    tor.answers.set(bob, [{ received: '1' }, { received: '2' }]);
    tor.answers.set(carol, [{ received: '7' }, { received: '7' }]);
    await Promise.all([watch.checkNow(), watch.checkNow()]);
    expect(tor.hsfetches()).toEqual([`HSFETCH ${bob}`, `HSFETCH ${carol}`]);
    await watch.checkNow();
    expect(tor.maxFetching).toBe(1);
    expect(tor.hsfetches()).toHaveLength(4);
    expect(fresh).toEqual([onion(bob)]);
  });

  it('swallows tor being away, a closed control connection, refusals and a throwing listener', async () => {
    let away = true;
    const tor = new FakeTor();
    const timers = new ManualTimers();
    const fresh: string[] = [];
    const watch = new OnionPresenceWatch({
      control: () => {
        if (away) throw new ControlClosedError('tor is not running (it is restarting or stopped)');
        return tor;
      },
      hosts: () => [onion(bob), onion(carol)],
      onFresh: (o) => {
        fresh.push(o);
        throw new Error('listener broke');
      },
      schedule: timers.schedule,
      fetchTimeoutMs: 200,
    });
    watches.push(watch);
    watch.start();
    await timers.fire(); // tor restarting
    away = false;
    tor.answers.set(bob, ['refuse']);
    tor.answers.set(carol, [{ received: '1' }, { received: '2' }]);
    await timers.fire(); // bob refused, carol recorded
    tor.closed = true;
    await timers.fire(); // control closed under it
    tor.closed = false;
    await timers.fire(); // carol changed: the listener throws, the watch goes on
    expect(fresh).toEqual([onion(carol)]);
    expect(timers.live).toHaveLength(1);
  });

  it('stop() clears its timer, and a round in flight then ends without calling the listener', async () => {
    const { tor, timers, watch } = setup();
    tor.answers.set(bob, [{ received: '1' }]);
    watch.start();
    await timers.fire();
    expect(timers.live).toHaveLength(1);
    watch.stop();
    expect(timers.live).toHaveLength(0);
    await new Promise((r) => setTimeout(r, 20));
    expect(tor.hsfetches()).toHaveLength(1);

    const inFlight = setup([onion(bob), onion(carol)]);
    inFlight.tor.answers.set(bob, [{ received: '1' }, { received: '2' }]);
    inFlight.tor.answers.set(carol, [{ received: '1' }]);
    inFlight.watch.start();
    await inFlight.timers.fire();
    const running = inFlight.watch.checkNow(); // bob's fetch (a new counter) is in flight when stop() comes
    inFlight.watch.stop();
    await running;
    expect(inFlight.tor.hsfetches(bob)).toHaveLength(2);
    expect(inFlight.fresh).toEqual([]);
    expect(inFlight.tor.hsfetches(carol)).toHaveLength(1); // the round ended before carol's second look
    expect(inFlight.timers.live).toHaveLength(0);
  });
});
