// Two radios on one machine, alice and bob, each with its own data dir, supervised tor, onion
// service, receiver and outbox — the real firmware twice — on simulated hardware: a scripted button,
// a recording LED, alice's microphone fed from a file through the addon, bob's speaker writing a
// file through the addon. The demo, the end-to-end test and the benchmark drive one exchange with
// talk(); the private Tor network itself is started by the caller (its torrc lines come in).
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { RecordingLed } from '../../hardware/sim/recording-led.js';
import { ScriptedButton } from '../../hardware/sim/scripted-button.js';
import { createSimSpeaker } from '../../hardware/sim/sim-audio.js';
import type { Button } from '../../hardware/button.js';
import type { Led } from '../../hardware/led.js';
import type { Microphone } from '../../hardware/microphone.js';
import { socksConnect } from '../tor/socks5-client.js';
import { SocksError } from '../tor/socks-error.js';
import type { BackoffPolicy } from '../store/backoff.js';
import { decodeStoredClip } from './clip-playback.js';
import type { Speech } from './demo-speech.js';
import { provisionRadios } from './demo-provision.js';
import { FileFedMicrophone } from './file-fed-microphone.js';
import { RadioApp, type DeliveredInfo } from './radio-app.js';

export interface PairedRadio {
  readonly name: string;
  readonly app: RadioApp;
  /** A ScriptedButton unless alice's input was given (interactive mode: the keyboard). */
  readonly button: Button;
  readonly led: RecordingLed;
  /** A FileFedMicrophone unless alice's input was given. */
  readonly microphone: Microphone;
  /** Raw S16_LE mono at speakerRate: the last clip this radio played. */
  readonly speakerFile: string;
}

export interface RadioPairOptions {
  readonly dir: string;
  /** torrc lines joining the private network (Testnet.torrcLinesForClient()); none for the public one. */
  readonly torConfig: readonly string[];
  readonly speakerRate?: number;
  /** Play in real time (the live demo) or as fast as the file PCM takes it (tests, bench). */
  readonly pacePlayback?: boolean;
  readonly backoff?: BackoffPolicy;
  /** LED per radio (the demo passes LEDs that draw); default RecordingLed. */
  readonly led?: (name: string) => RecordingLed;
  /** Alice's button and microphone (interactive mode: space bar and laptop mic); talk() needs a ScriptedButton and a FileFedMicrophone. */
  readonly aliceInput?: { readonly button: Button; readonly microphone: Microphone };
}

export interface ExchangeResult {
  readonly clipId: string;
  readonly delivered: DeliveredInfo;
  /** Audio length the clip's header states. */
  readonly audioMs: number;
  readonly storedBytes: number;
  readonly wireBytes: number;
  /** Bob's copy of the audio as Ogg Opus, verified again from his inbox. */
  readonly receivedOgg: Uint8Array;
  /** Press to release, as held. */
  readonly heldMs: number;
  /** Release to the sealed clip (the microphone's tail, the last page, the signature): the part of the latency tor has no say in. */
  readonly releaseToSealedMs: number;
}

/** Something in the exchange did not happen in time; names the step and what was seen. */
export class ExchangeError extends Error {
  override readonly name = 'ExchangeError';
}

/** Every wait of an exchange: bounded by a timeout and by the caller's abort signal (Ctrl-C). */
function waitEvent<T>(what: string, ms: number, subscribe: (done: (v: T) => void, fail: (e: Error) => void) => () => void, signal?: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let off = () => {};
    const finish = (settle: () => void) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      off();
      settle();
    };
    const onAbort = () => finish(() => reject(new ExchangeError(`stopped while waiting for ${what}`)));
    const timer = setTimeout(() => finish(() => reject(new ExchangeError(`timed out after ${ms / 1000} s waiting for ${what}`))), ms);
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    off = subscribe(
      (v) => finish(() => resolve(v)),
      (e) => finish(() => reject(e)),
    );
  });
}

export class RadioPair {
  private constructor(
    readonly alice: PairedRadio,
    readonly bob: PairedRadio,
  ) {}

  static async start(o: RadioPairOptions): Promise<RadioPair> {
    const [a, b] = await provisionRadios(o.dir, ['alice', 'bob']);
    const started: PairedRadio[] = [];
    try {
      for (const p of [a!, b!]) {
        const button = new ScriptedButton();
        const led = o.led?.(p.name) ?? new RecordingLed();
        const microphone = new FileFedMicrophone();
        const speakerFile = join(o.dir, `${p.name}-speaker.raw`);
        const speaker = createSimSpeaker({ outfile: speakerFile, rate: o.speakerRate ?? 16000, pace: o.pacePlayback ?? false });
        const input = p.name === 'alice' && o.aliceInput ? o.aliceInput : { button, microphone };
        const app = await RadioApp.start({
          dataDir: p.dataDir,
          configPath: p.configPath,
          hardware: { button: input.button, led: led as Led, microphone: input.microphone, speaker },
          tor: { extraConfig: o.torConfig },
          ...(o.backoff ? { outbox: { backoff: o.backoff } } : {}),
        });
        started.push({ name: p.name, app, button: input.button, led, microphone: input.microphone, speakerFile });
      }
    } catch (err) {
      await Promise.allSettled(started.map((r) => r.app.stop()));
      throw err;
    }
    return new RadioPair(started[0]!, started[1]!);
  }

  get radios(): readonly PairedRadio[] {
    return [this.alice, this.bob];
  }

  /**
   * Both tors up and both onions published, then alice's tor retries until bob's onion answers
   * (the descriptor takes a moment to reach the HSDirs).
   */
  async waitOnline(timeoutMs = 120_000, signal?: AbortSignal): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    await waitEvent<void>("the radios' tors to start and publish their onions", timeoutMs, (done, fail) => {
      Promise.all(this.radios.map((r) => r.app.torReady)).then(() => done(), fail);
      return () => {};
    }, signal);
    await waitEvent<void>('both tors to reach 100 % bootstrap', Math.max(1, deadline - Date.now()), (done) => {
      const check = () => this.radios.every((r) => r.app.shell.state.tor.kind === 'connected') && done();
      const offs = this.radios.map((r) => r.app.torLink.onStatus(() => check()));
      queueMicrotask(check);
      return () => offs.forEach((f) => f());
    }, signal);
    let last = '';
    while (Date.now() < deadline) {
      if (signal?.aborted) throw new ExchangeError("stopped while waiting for bob's onion");
      const socksPort = this.alice.app.torLink.socksPort;
      try {
        if (socksPort === undefined) throw new ExchangeError("alice's tor has no SOCKS port");
        const s = await socksConnect({ socksPort, host: this.bob.app.onion, port: 80, timeoutMs: Math.min(20_000, Math.max(1000, deadline - Date.now())), ...(signal ? { signal } : {}) });
        s.destroy();
        return;
      } catch (err) {
        last = (err as Error).message;
        if (err instanceof SocksError && !err.retryable) break;
        await sleep(500, undefined, signal ? { signal } : {}).catch(() => undefined);
      }
    }
    throw new ExchangeError(`bob's onion was not reachable from alice within ${timeoutMs / 1000} s: ${last}`);
  }

  /**
   * Alice says `speech`: her mic starts on the file, the button goes down just before the speech
   * and up just after it; then waits for alice's receipt and for bob to have played the clip.
   */
  async talk(speech: Speech, timeoutMs = 60_000, signal?: AbortSignal): Promise<ExchangeResult> {
    const { alice, bob } = this;
    const { button, microphone } = alice;
    if (!(button instanceof ScriptedButton) || !(microphone instanceof FileFedMicrophone)) throw new ExchangeError('alice is interactive: she talks with the space bar');
    await microphone.load(speech.raw);
    const loadedAt = performance.now();
    // Press inside the leading silence, after the mic's settle time; the pre-roll covers the rest.
    const pause = (ms: number) => sleep(Math.max(0, ms), undefined, signal ? { signal } : {});
    await pause(speech.leadMs - 150 - (performance.now() - loadedAt));
    const recording = waitEvent<{ clipId: string }>('alice to start recording', 5000, (done) => {
      alice.app.on('recording', done);
      return () => alice.app.off('recording', done);
    }, signal);
    button.press();
    const pressedAt = performance.now();
    const { clipId } = await recording;
    const sealed = waitEvent<{ durationMs: number; storedBytes: number; wireBytes: number }>('the clip to be sealed', timeoutMs, (done) => {
      const on = (e: { clipId: string; durationMs: number; storedBytes: number; wireBytes: number }) => e.clipId === clipId && done(e);
      alice.app.on('sealed', on);
      return () => alice.app.off('sealed', on);
    }, signal);
    const delivered = waitEvent<DeliveredInfo>("alice's receipt from bob", timeoutMs, (done, fail) => {
      const on = (e: DeliveredInfo) => e.clipId === clipId && done(e);
      const onFailed = (e: { clipId: string; reason: string }) => e.clipId === clipId && fail(new ExchangeError(`the clip was not delivered: ${e.reason}`));
      alice.app.on('delivered', on).on('failed', onFailed);
      return () => alice.app.off('delivered', on).off('failed', onFailed);
    }, signal);
    const played = waitEvent<void>('bob to play the clip', timeoutMs, (done) => {
      const on = (e: { clipId: string }) => e.clipId === clipId && done();
      bob.app.on('played', on);
      return () => bob.app.off('played', on);
    }, signal);
    // Observed here already: an abort during the pause below must not leave them rejecting unhandled.
    for (const p of [sealed, delivered, played]) p.catch(() => undefined);
    await pause(speech.leadMs + speech.speechMs + 250 - (performance.now() - loadedAt));
    button.release();
    const releasedAt = performance.now();
    const heldMs = releasedAt - pressedAt;
    const releaseToSealed = sealed.then(() => performance.now() - releasedAt);
    const [info, seal, releaseToSealedMs] = await Promise.all([delivered, sealed, releaseToSealed, played]);
    return { ...(await this.receivedBy(bob, clipId, info, seal)), heldMs, releaseToSealedMs };
  }

  /** The next clip alice sends, however it is talked (interactive mode): resolves when bob has played it. */
  async nextExchange(timeoutMs: number, signal?: AbortSignal): Promise<ExchangeResult> {
    const { alice, bob } = this;
    const { clipId } = await waitEvent<{ clipId: string }>('alice to talk', timeoutMs, (done) => {
      alice.app.on('recording', done);
      return () => alice.app.off('recording', done);
    }, signal);
    const pressedAt = performance.now();
    let heldMs = 0;
    const onReleased = (e: { clipId: string }) => e.clipId === clipId && (heldMs = performance.now() - pressedAt);
    alice.app.on('released', onReleased);
    const seal = await waitEvent<{ durationMs: number; storedBytes: number; wireBytes: number }>('the clip to be sealed', timeoutMs, (done) => {
      const on = (e: { clipId: string; durationMs: number; storedBytes: number; wireBytes: number }) => e.clipId === clipId && done(e);
      alice.app.on('sealed', on);
      return () => alice.app.off('sealed', on);
    }, signal);
    alice.app.off('released', onReleased);
    const releaseToSealedMs = performance.now() - pressedAt - heldMs;
    const [info] = await Promise.all([
      waitEvent<DeliveredInfo>("alice's receipt from bob", timeoutMs, (done) => {
        const on = (e: DeliveredInfo) => e.clipId === clipId && done(e);
        alice.app.on('delivered', on);
        return () => alice.app.off('delivered', on);
      }, signal),
      waitEvent<void>('bob to play the clip', timeoutMs, (done) => {
        const on = (e: { clipId: string }) => e.clipId === clipId && done();
        bob.app.on('played', on);
        return () => bob.app.off('played', on);
      }, signal),
    ]);
    return { ...(await this.receivedBy(bob, clipId, info, seal)), heldMs, releaseToSealedMs };
  }

  private async receivedBy(
    bob: PairedRadio,
    clipId: string,
    info: DeliveredInfo,
    seal: { durationMs: number; storedBytes: number; wireBytes: number },
  ): Promise<Omit<ExchangeResult, 'heldMs' | 'releaseToSealedMs'>> {
    const received = await decodeStoredClip({ inbox: bob.app.receiver.inbox, clipId, identity: bob.app.identity, contacts: bob.app.config.contacts });
    return { clipId, delivered: info, audioMs: seal.durationMs, storedBytes: seal.storedBytes, wireBytes: seal.wireBytes, receivedOgg: received.ogg };
  }

  async stop(): Promise<void> {
    const results = await Promise.allSettled(this.radios.map((r) => r.app.stop()));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }
}
