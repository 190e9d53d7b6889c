// The stale-onion remedy: which failures trigger HSFETCH or NEWNYM, and the rate limits that keep a
// peer that is really off from causing a NEWNYM storm (fake control client, fake clock); and the
// connector's one immediate retry after a remedy (scripted loopback SOCKS replies); and the early end
// of a connect whose rendezvous stalled after INTRODUCE_ACK (CIRC_MINOR events as tor 0.4.9 words them). Real tor taking
// HSFETCH and answering HS_DESC RECEIVED runs in test/e2e/radio-pair.test.ts (TORLK_LOG=info shows it).
import { FakeControlEvents } from './fake-control-events.js';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Reply } from '../../firmware/tor/control-reply-parser.js';
import { ControlClosedError, ControlReplyError } from '../../firmware/tor/errors.js';
import { onionKeyFromSeed } from '../../firmware/tor/onion-key.js';
import { isStaleOnionFailure, OnionRefetcher, type RefetchControl } from '../../firmware/tor/onion-refetch.js';
import { RendezvousWatch } from '../../firmware/tor/rendezvous-watch.js';
import { SocksError } from '../../firmware/tor/socks-error.js';
import { torConnector } from '../../firmware/transport/tor-connector.js';

const bob = onionKeyFromSeed(Buffer.alloc(32, 1)).serviceId;
const carol = onionKeyFromSeed(Buffer.alloc(32, 2)).serviceId;
const onion = (id: string) => `${id}.onion`;
const socksReply = (id: string, code: number) => new SocksError('reply', `${onion(id)}:80`, code);
const socksTimeout = (id: string) => new SocksError('timeout', `${onion(id)}:80`, undefined, 'no answer within 30000 ms');

/** How the fake tor answers an HSFETCH: the HS_DESC action it sends afterwards, or none. */
type FetchAnswer = 'RECEIVED' | 'FAILED' | 'silent';

class FakeControl extends FakeControlEvents implements RefetchControl {
  readonly commands: string[] = [];
  readonly subscribed: string[] = [];
  answer: FetchAnswer = 'RECEIVED';
  refuse: { code: number; text: string } | undefined;

  async command(line: string): Promise<Reply> {
    this.commands.push(line);
    if (this.refuse) throw new ControlReplyError(line.split(' ')[0]!, this.refuse.code, this.refuse.text);
    const id = /^HSFETCH (\S+)$/.exec(line)?.[1];
    if (id) {
      // Tor answers 250 at once; the fetch's outcome follows as events, other onions' events interleaved.
      setImmediate(() => {
        this.emit(`REQUESTED ${id} NO_AUTH $AAAA~test003r blinded`);
        this.emit(`RECEIVED ${carol === id ? bob : carol} NO_AUTH $AAAA~test003r desc`);
        if (this.answer !== 'silent') this.emit(`${this.answer} ${id} NO_AUTH $AAAA~test003r desc${this.answer === 'FAILED' ? ' REASON=NOT_FOUND' : ''}`);
      });
    }
    return { code: 250, lines: [{ code: 250, sep: ' ', text: 'OK' }] };
  }


  async subscribe(...eventNames: string[]): Promise<void> {
    this.subscribed.push(...eventNames);
  }


  get hsfetches(): string[] {
    return this.commands.filter((c) => c.startsWith('HSFETCH'));
  }
}

function setup(options: { fetchTimeoutMs?: number } = {}) {
  const control = new FakeControl();
  const clock = { t: 1_000_000 };
  let newnyms = 0;
  const refetcher = new OnionRefetcher({
    control: () => control,
    newCircuits: async () => {
      newnyms++;
    },
    now: () => clock.t,
    fetchTimeoutMs: options.fetchTimeoutMs ?? 2000,
  });
  return { control, clock, refetcher, newnyms: () => newnyms };
}

describe('isStaleOnionFailure', () => {
  it('is true for descriptor-not-found, intro failed, rendezvous failed, intro timed out, and our own timeout, on an onion', () => {
    for (const code of [0xf0, 0xf2, 0xf3, 0xf7]) expect(isStaleOnionFailure(onion(bob), socksReply(bob, code))).toBe(true);
    expect(isStaleOnionFailure(onion(bob), socksTimeout(bob))).toBe(true);
  });

  it('is false for client-auth, bad address, generic SOCKS failures, non-onion hosts and other errors', () => {
    for (const code of [0x01, 0x04, 0x05, 0xf1, 0xf4, 0xf5, 0xf6]) expect(isStaleOnionFailure(onion(bob), socksReply(bob, code))).toBe(false);
    expect(isStaleOnionFailure(onion(bob), new SocksError('proxy-unreachable', `${onion(bob)}:80`, undefined, 'ECONNREFUSED'))).toBe(false);
    expect(isStaleOnionFailure('127.0.0.1', new SocksError('timeout', '127.0.0.1:80'))).toBe(false);
    expect(isStaleOnionFailure(onion(bob), new Error('0xF2'))).toBe(false);
  });
});

describe('OnionRefetcher', () => {
  it('answers an intro failure with HSFETCH of the bare service id and reports the received descriptor', async () => {
    const { control, refetcher, newnyms } = setup();
    expect(await refetcher.afterFailure(onion(bob), socksReply(bob, 0xf2))).toEqual({ action: 'refetched' });
    expect(control.subscribed).toEqual(['HS_DESC']);
    expect(control.commands).toEqual([`HSFETCH ${bob}`]);
    expect(newnyms()).toBe(0);
  });

  it('does nothing for failures a refetch cannot cure', async () => {
    const { control, refetcher, newnyms } = setup();
    expect(await refetcher.afterFailure(onion(bob), socksReply(bob, 0xf4))).toEqual({ action: 'not-applicable' });
    expect(await refetcher.afterFailure(onion(bob), socksReply(bob, 0x01))).toEqual({ action: 'not-applicable' });
    expect(await refetcher.afterFailure('not-an-onion.onion', socksReply(bob, 0xf2))).toEqual({ action: 'not-applicable' });
    expect(control.commands).toEqual([]);
    expect(newnyms()).toBe(0);
  });

  it('falls back to new circuits when the fetch fails or tor stays silent', async () => {
    const failed = setup();
    failed.control.answer = 'FAILED';
    expect(await failed.refetcher.afterFailure(onion(bob), socksReply(bob, 0xf0))).toEqual({ action: 'new-circuits' });
    expect(failed.control.hsfetches).toHaveLength(1);
    expect(failed.newnyms()).toBe(1);

    const silent = setup({ fetchTimeoutMs: 30 });
    silent.control.answer = 'silent';
    const started = performance.now();
    expect(await silent.refetcher.afterFailure(onion(bob), socksReply(bob, 0xf7))).toEqual({ action: 'new-circuits' });
    expect(performance.now() - started).toBeGreaterThanOrEqual(25);
    expect(silent.newnyms()).toBe(1);
  });

  it('refetches, then renews circuits, then waits: at most one HSFETCH per onion per 10 s and one NEWNYM per 30 s', async () => {
    const { control, clock, refetcher, newnyms } = setup();
    const at = async (s: number, id: string, code: number) => {
      clock.t = 1_000_000 + s * 1000;
      return (await refetcher.afterFailure(onion(id), socksReply(id, code))).action;
    };
    expect(await at(0, bob, 0xf2)).toBe('refetched');
    expect(await at(1, bob, 0xf2)).toBe('new-circuits'); // the fresh descriptor did not help
    expect(await at(2, bob, 0xf3)).toBe('rate-limited');
    expect(await at(9, bob, 0xf7)).toBe('rate-limited');
    expect(await at(9, carol, 0xf2)).toBe('refetched'); // the HSFETCH limit is per onion
    expect(await at(10, carol, 0xf2)).toBe('rate-limited'); // NEWNYM limit is for the whole tor
    expect(await at(12, bob, 0xf2)).toBe('refetched');
    expect(await at(13, bob, 0xf2)).toBe('rate-limited');
    expect(await at(31, bob, 0xf2)).toBe('refetched');
    expect(await at(32, bob, 0xf2)).toBe('new-circuits'); // 31 s after the first NEWNYM
    expect(control.hsfetches).toEqual([`HSFETCH ${bob}`, `HSFETCH ${carol}`, `HSFETCH ${bob}`, `HSFETCH ${bob}`]);
    expect(newnyms()).toBe(2);
  });

  it('answers a stalled connect (our timeout) with new circuits first, and refetches if NEWNYM was used lately', async () => {
    const { control, clock, refetcher, newnyms } = setup();
    expect((await refetcher.afterFailure(onion(bob), socksTimeout(bob))).action).toBe('new-circuits');
    expect(control.commands).toEqual([]);
    clock.t += 11_000;
    expect((await refetcher.afterFailure(onion(bob), socksTimeout(bob))).action).toBe('refetched');
    expect(control.hsfetches).toHaveLength(1);
    expect(newnyms()).toBe(1);
  });

  it('shares one remedy between failures that arrive together', async () => {
    const { control, refetcher } = setup();
    const outcomes = await Promise.all([
      refetcher.afterFailure(onion(bob), socksReply(bob, 0xf2)),
      refetcher.afterFailure(onion(bob), socksReply(bob, 0xf7)),
      refetcher.afterFailure(onion(bob), socksReply(bob, 0xf2)),
    ]);
    expect(outcomes.map((o) => o.action)).toEqual(['refetched', 'refetched', 'refetched']);
    expect(control.hsfetches).toHaveLength(1);
  });

  it('a peer that stays off for 10 minutes, retried every second, costs at most 60 HSFETCH and 21 NEWNYM', async () => {
    const { control, clock, refetcher, newnyms } = setup();
    control.answer = 'RECEIVED'; // the HSDirs still serve the old descriptor: every connect fails again
    for (let s = 0; s < 600; s++) {
      clock.t = 1_000_000 + s * 1000;
      await refetcher.afterFailure(onion(bob), socksReply(bob, s % 2 ? 0xf2 : 0xf7));
    }
    expect(control.hsfetches.length).toBeLessThanOrEqual(60);
    expect(newnyms()).toBeLessThanOrEqual(21);
    expect(newnyms()).toBeGreaterThanOrEqual(19);
  });

  it('reports tor being away or refusing HSFETCH as unavailable, without throwing', async () => {
    const away = new OnionRefetcher({
      control: () => {
        throw new ControlClosedError('tor is not running (it is restarting or stopped)');
      },
      newCircuits: async () => {},
    });
    const outcome = await away.afterFailure(onion(bob), socksReply(bob, 0xf2));
    expect(outcome.action).toBe('unavailable');
    expect(outcome.action === 'unavailable' && outcome.error).toBeInstanceOf(ControlClosedError);

    const { control, refetcher } = setup();
    control.refuse = { code: 552, text: 'Unrecognized command "HSFETCH"' };
    const refused = await refetcher.afterFailure(onion(bob), socksReply(bob, 0xf2));
    expect(refused.action === 'unavailable' && refused.error).toBeInstanceOf(ControlReplyError);
  });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** A client rendezvous circuit's events, as tor words them (path and TIME_CREATED shortened). */
const rend = (circ: string, state: string, id: string, event = 'PURPOSE_CHANGED') =>
  `${circ} ${event} $8E4151EFDF2A326D00D23EFC102A3E44AE100006~test003r BUILD_FLAGS=IS_INTERNAL,NEED_CAPACITY PURPOSE=HS_CLIENT_REND HS_STATE=${state} REND_QUERY=${id} TIME_CREATED=2026-11-24T23:06:35.002`;

describe('RendezvousWatch', () => {
  function setupWatch(stallMs = 30) {
    const control = new FakeControl();
    const watch = new RendezvousWatch({ control: () => control, stallMs });
    const stalls: string[] = [];
    return { control, watch, stalls, onStall: (d: string) => stalls.push(d) };
  }

  it('reports a rendezvous that waits past stallMs after INTRODUCE_ACK', async () => {
    const { control, watch, stalls, onStall } = setupWatch();
    watch.watch(bob, onStall);
    await sleep(0);
    expect(control.subscribed).toEqual(['CIRC', 'CIRC_MINOR']);
    control.emit(rend('31', 'HSCR_ESTABLISHED_IDLE', bob), 'CIRC_MINOR');
    control.emit(rend('31', 'HSCR_ESTABLISHED_WAITING', bob), 'CIRC_MINOR');
    await sleep(60);
    expect(stalls).toHaveLength(1);
    expect(stalls[0]).toMatch(/rendezvous stalled.*30 ms/);
    // Closed, so that tor does not park the next stream on the same dead circuit.
    expect(control.commands).toEqual(['CLOSECIRCUIT 31']);
  });

  it('stays quiet when the service joins or the circuit closes in time, and for other onions', async () => {
    const { control, watch, stalls, onStall } = setupWatch();
    watch.watch(bob, onStall);
    control.emit(rend('40', 'HSCR_ESTABLISHED_WAITING', bob), 'CIRC_MINOR');
    control.emit(rend('40', 'HSCR_JOINED', bob), 'CIRC_MINOR');
    control.emit(rend('41', 'HSCR_ESTABLISHED_WAITING', bob), 'CIRC_MINOR');
    control.emit(rend('41', 'HSCR_ESTABLISHED_WAITING', bob, 'CLOSED') + ' REASON=FINISHED', 'CIRC');
    control.emit(rend('42', 'HSCR_ESTABLISHED_WAITING', carol), 'CIRC_MINOR');
    await sleep(60);
    expect(stalls).toEqual([]);
    // Carol's stalled circuit is closed all the same (nobody waits on it, and nobody should).
    expect(control.commands).toEqual(['CLOSECIRCUIT 42']);
  });

  it('stops reporting once the watch ends', async () => {
    const { control, watch, stalls, onStall } = setupWatch();
    const unwatch = watch.watch(bob, onStall);
    control.emit(rend('50', 'HSCR_ESTABLISHED_WAITING', bob), 'CIRC_MINOR');
    unwatch();
    await sleep(60);
    expect(stalls).toEqual([]);
  });
});

describe('torConnector with recover', () => {
  const servers: net.Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((srv) => new Promise((r) => srv.close(r))));
  });

  /** A scripted loopback SOCKS5 peer answering each CONNECT with the next reply code (tor's byte layout). */
  async function socksPeer(codes: number[]): Promise<number> {
    const server = net.createServer((socket) => {
      socket.on('error', () => {});
      socket.once('data', () => {
        const code = codes.shift() ?? 0x01;
        socket.write(Buffer.from([0x05, 0x00, 0x05, code, 0x00, 0x01, 0, 0, 0, 0, 0, 0]));
        if (code !== 0) socket.end();
      });
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return (server.address() as net.AddressInfo).port;
  }

  function connector(port: number, recover: boolean) {
    const seen: unknown[] = [];
    const recovered: string[] = [];
    const connect = torConnector({
      socksPort: () => port,
      timeoutMs: 2000,
      recover: async (_host, err) => {
        seen.push(err);
        return recover;
      },
      recovered: (host) => recovered.push(host),
    });
    return { connect, seen, recovered };
  }

  it('connects once more when recover says tor changed, and reports the peer back when that works', async () => {
    const c = connector(await socksPeer([0xf2, 0x00]), true);
    const socket = await c.connect(onion(bob), 80);
    socket.destroy();
    expect(c.seen.map((e) => (e as SocksError).code)).toEqual([0xf2]);
    expect(c.recovered).toEqual([onion(bob)]);
  });

  it('tries once more only: a second failure goes to the caller', async () => {
    const c = connector(await socksPeer([0xf2, 0xf7, 0x00]), true);
    const err = await c.connect(onion(bob), 80).catch((e: unknown) => e);
    expect((err as SocksError).code).toBe(0xf7);
    expect(c.seen).toHaveLength(1);
    expect(c.recovered).toEqual([]);
  });

  it('passes the failure on when recover says nothing changed', async () => {
    const c = connector(await socksPeer([0xf2, 0x00]), false);
    const err = await c.connect(onion(bob), 80).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SocksError);
    expect((err as SocksError).code).toBe(0xf2);
    expect(c.recovered).toEqual([]);
  });

  it('ends a connect whose rendezvous stalled with a retryable timeout, which goes to recover', async () => {
    // The first CONNECT gets no reply at all (tor stalling); the second succeeds.
    let connections = 0;
    const server = net.createServer((socket) => {
      socket.on('error', () => {});
      const n = connections++;
      socket.once('data', () => {
        if (n > 0) socket.write(Buffer.from([0x05, 0x00, 0x05, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0]));
      });
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    const seen: unknown[] = [];
    let watches = 0;
    const connect = torConnector({
      socksPort: () => port,
      timeoutMs: 5000,
      watchStall: (_host, onStall) => {
        if (watches++ === 0) {
          const t = setTimeout(() => onStall('rendezvous stalled: test'), 20);
          return () => clearTimeout(t);
        }
        return undefined;
      },
      recover: async (_host, err) => {
        seen.push(err);
        return true;
      },
    });
    const started = performance.now();
    const socket = await connect(onion(bob), 80);
    socket.destroy();
    expect(performance.now() - started).toBeLessThan(2000);
    const err = seen[0] as SocksError;
    expect(err).toBeInstanceOf(SocksError);
    expect([err.failure, err.retryable, err.message]).toEqual(['timeout', true, expect.stringContaining('rendezvous stalled: test')]);
  });
});
