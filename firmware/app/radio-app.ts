// A running radio: the pure radio core (RadioShell) bound to real parts. Given hardware, a data
// directory and torlk.toml, it loads the identity and contacts, starts the clip receiver and inbox,
// the outbox, and its own supervised tor (in the background: the radio records and queues while tor
// starts), and translates between the core's ports/events and those parts:
//   press → startRecording → Microphone.record → Talk (Ogg → sealer → live uploads per member)
//   release → stopRecording → the tail, the sealed clip → TalkSession.release → outbox
//   outbox queued/delivered/failed, receiver clip, tor status, mic faults → RadioShell.dispatch
//   play → inbox clip verified again → Speaker.play → inbox marked played → playbackEnded
// Events on the app (an EventEmitter) tell a terminal view or a test what happened, with figures.
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { nextSequence } from '../clip/sequence-counter.js';
import { resolveConfigPath } from '../contacts/config-path.js';
import { channelMembers, loadConfig, type ConfigContact, type TorlkConfig } from '../contacts/torlk-config.js';
import { loadDeviceIdentity, type DeviceIdentity } from '../identity/device-identity.js';
import { createLog } from '../log.js';
import { RadioShell, type RadioPorts } from '../radio/radio-shell.js';
import type { RadioOptions } from '../radio/radio-state.js';
import type { HardwareDevice, RadioEvent } from '../radio/radio-types.js';
import type { BackoffPolicy } from '../store/backoff.js';
import type { InboxEntry } from '../store/inbox.js';
import type { Outbox, OutboxItem } from '../store/outbox.js';
import type { TorStatus } from '../tor/index.js';
import { openClipOutbox, recipientFor, startClipReceiver, type ClipReceiver } from '../transport/clip-transport.js';
import type { Delivered, Recipient } from '../transport/sender.js';
import { TalkSession } from '../transport/talk-session.js';
import { RadioAppError } from './app-errors.js';
import { playStoredClip, UnplayableClipError } from './clip-playback.js';
import { closeHardware, type HardwareSet } from './hardware-set.js';
import { Talk } from './talk.js';
import { collectWhenIdle } from './idle-gc.js';
import { radioEventForTor, TorLink, type TorLinkOptions } from './tor-link.js';

const log = createLog('app');
/** Clips whose verified audio is kept in RAM for their playback (~20 KB each). */
const FRESH_AUDIO_KEPT = 4;

/** The radio dropped a recording on purpose (a tap shorter than the minimum, a cancelled press). */
class RecordingDiscarded extends Error {
  override readonly name = 'RecordingDiscarded';
  constructor(readonly reason: string) {
    super(`recording discarded (${reason})`);
  }
}

export interface RadioAppOptions {
  readonly dataDir: string;
  /** torlk.toml; default: resolveConfigPath(dataDir) (--config, $TORLK_CONFIG, boot partition, data dir). */
  readonly configPath?: string;
  /** Owned by the app from here on: stop() closes it. */
  readonly hardware: HardwareSet;
  readonly tor?: TorLinkOptions;
  readonly radio?: Omit<RadioOptions, 'idPrefix' | 'tor'>;
  readonly outbox?: { readonly backoff?: BackoffPolicy; readonly expiryMs?: number; readonly responseTimeoutMs?: number };
  /** Receiver port on 127.0.0.1 (default: any free port). */
  readonly receiverPort?: number;
}

export interface DeliveredInfo {
  readonly clipId: string;
  /** From release (stopRecording) to the last recipient's verified receipt; null for clips of an earlier run. */
  readonly latencyMs: number | null;
  /** Body bytes sent to one recipient (the last receipt's upload). */
  readonly bytesSent: number;
  /** That upload's wait from its body's last byte to the receipt (Delivered.waitMs): tor and the receiver. */
  readonly waitMs: number;
  readonly via: 'streamed' | 'queued';
}

export interface RadioAppEvents {
  tor: [TorStatus];
  onion: [string];
  recording: [{ recordingId: string; clipId: string }];
  released: [{ clipId: string }];
  sealed: [{ clipId: string; durationMs: number; storedBytes: number; wireBytes: number }];
  queued: [{ clipId: string; to: string }];
  retry: [{ clipId: string; to: string; error: string }];
  delivered: [DeliveredInfo];
  failed: [{ clipId: string; reason: string }];
  received: [InboxEntry];
  playing: [{ clipId: string; from: string }];
  played: [{ clipId: string; samples: number; interrupted: boolean; durationMs: number }];
  fault: [{ device: HardwareDevice; error: Error }];
}

type Timeless<E> = E extends unknown ? Omit<E, 'at'> : never;

interface Outgoing {
  readonly radioId: string;
  readonly remaining: Set<string>;
  releasedAt?: number;
  streamed: boolean;
}

export class RadioApp extends EventEmitter<RadioAppEvents> {
  readonly shell: RadioShell;
  /** Milliseconds from start() to a radio that takes presses and clips (tor excluded: it starts in the background). */
  readonly startMs: number;
  readonly #talks = new Map<string, { talk: Talk; clipId: string }>();
  readonly #outgoing = new Map<string, Outgoing>();
  readonly #playbacks = new Map<string, AbortController>();
  /** Verified audio of clips just received, by clip id, until played: opening them again from the
   * inbox (decrypt and signature check, ~3.5 ms of CPU here, ten times that on a Zero W) would
   * repeat what the receiver did a moment before. */
  readonly #freshAudio = new Map<string, Uint8Array>();
  readonly #cleanups: (() => void)[] = [];
  /** Settles when the microphone has finished the last recording (its tail runs ~200 ms past release). */
  #micBusy: Promise<void> | undefined;
  /** Settles when the speaker has let go of the last clip (an interrupted one takes a moment to stop). */
  #speakerBusy: Promise<void> = Promise.resolve();
  #stopping: Promise<void> | undefined;

  private constructor(
    readonly identity: DeviceIdentity,
    readonly config: TorlkConfig,
    readonly channel: string,
    readonly members: readonly ConfigContact[],
    readonly receiver: ClipReceiver,
    readonly outbox: Outbox,
    readonly torLink: TorLink,
    readonly hardware: HardwareSet,
    radio: RadioAppOptions['radio'],
    startedAt: number,
  ) {
    super();
    this.shell = new RadioShell({
      ports: this.#ports(),
      led: hardware.led,
      radio: { ...radio, idPrefix: `b${Date.now().toString(36)}${randomBytes(2).toString('hex')}` },
      log: createLog('radio'),
    });
    this.#wire();
    this.startMs = performance.now() - startedAt;
  }

  /** Loads keys and contacts, starts every part; resolves when the radio is ready (tor still starting). */
  static async start(o: RadioAppOptions): Promise<RadioApp> {
    const startedAt = performance.now();
    const identity = await loadDeviceIdentity(o.dataDir);
    const configPath = o.configPath ?? resolveConfigPath(o.dataDir);
    const { config } = await loadConfig(configPath);
    const channel = config.device.channel ?? [...config.channels.keys()][0];
    if (channel === undefined) {
      throw new RadioAppError('no-channel', `${configPath} names no channel: add a contact with "torlk contact add <card> --channel NAME"`);
    }
    const members = channelMembers(config, channel);
    if (members.length === 0) throw new RadioAppError('empty-channel', `channel "${channel}" in ${configPath} has no members: nobody would hear this radio`);
    const receiver = await startClipReceiver({
      dataDir: o.dataDir,
      identity: { ageIdentity: identity.ageIdentity, ageRecipient: identity.ageRecipient, signer: identity.signer },
      contacts: () => config.contacts,
      ...(o.receiverPort !== undefined ? { port: o.receiverPort } : {}),
    });
    let torLink: TorLink | undefined;
    try {
      torLink = new TorLink(identity, config.contacts, receiver.port, o.tor);
      const outbox = await openClipOutbox({
        dataDir: o.dataDir,
        connector: torLink.connector(),
        ...(o.outbox?.backoff ? { backoff: o.outbox.backoff } : {}),
        ...(o.outbox?.expiryMs !== undefined ? { expiryMs: o.outbox.expiryMs } : {}),
        ...(o.outbox?.responseTimeoutMs !== undefined ? { responseTimeoutMs: o.outbox.responseTimeoutMs } : {}),
      });
      return new RadioApp(identity, config, channel, members, receiver, outbox, torLink, o.hardware, o.radio, startedAt);
    } catch (err) {
      await torLink?.stop().catch(() => undefined);
      await receiver.close().catch(() => undefined);
      throw err;
    }
  }

  /** Resolves when tor is up and this radio's onion service is published (rejects if tor cannot start). */
  get torReady(): Promise<void> {
    return this.torLink.ready;
  }

  get onion(): string {
    return this.identity.onion.address;
  }

  #dispatch(event: Timeless<RadioEvent>): void {
    this.shell.dispatch({ ...event, at: this.shell.now() } as RadioEvent);
  }

  #wire(): void {
    const { hardware, outbox, receiver, torLink } = this;
    this.#cleanups.push(this.shell.attachButton(hardware.button));
    this.#cleanups.push(
      torLink.onStatus((s) => {
        this.#dispatch(radioEventForTor(s));
        if (s.state === 'connected') outbox.kick(); // tor is (back) up: retry queued clips now
        this.emit('tor', s);
      }),
    );
    // A contact reachable again after tor refreshed its onion (their radio restarted): the other
    // clips queued for them go now instead of after the outbox's backoff.
    this.#cleanups.push(torLink.onContactReachable(() => outbox.kick()));
    // Garbage of finished clips is collected when the radio goes idle (needs node's --expose-gc, as
    // torlk.service gives; a no-op without it).
    this.#cleanups.push(collectWhenIdle(this));
    // A contact with queued clips who published a new onion descriptor (their radio came back):
    // retry now rather than after a backoff grown to 30 min while they were off.
    this.#cleanups.push(torLink.watchPresence(() => [...new Set(outbox.pending().map((item) => item.recipient.host))], () => outbox.kick()));
    torLink.ready.then(
      () => torLink.onion && this.emit('onion', torLink.onion),
      () => undefined, // reported as a tor status 'error'
    );
    this.#cleanups.push(
      hardware.microphone.onFault((error) => {
        this.emit('fault', { device: 'microphone', error });
        this.#dispatch({ type: 'hardwareFault', device: 'microphone', reason: error.message });
      }),
    );
    const onQueued = (item: OutboxItem) => {
      const o = this.#track(item.clipId, [item.recipient]);
      this.#dispatch({ type: 'clipQueued', clipId: o.radioId });
      this.emit('queued', { clipId: item.clipId, to: item.recipient.name });
    };
    const onDelivered = (item: OutboxItem, delivered: Delivered) => this.#delivered(item, delivered);
    const onRetry = (item: OutboxItem, err: Error) => this.emit('retry', { clipId: item.clipId, to: item.recipient.name, error: err.message });
    const onFailed = (item: OutboxItem, why: string) => {
      const o = this.#outgoing.get(item.clipId);
      this.#outgoing.delete(item.clipId);
      this.#dispatch({ type: 'clipFailed', clipId: o?.radioId ?? item.clipId, reason: /expired/.test(why) ? 'expired' : 'rejected' });
      this.emit('failed', { clipId: item.clipId, reason: why });
    };
    outbox.on('queued', onQueued).on('delivered', onDelivered).on('retry', onRetry).on('failed', onFailed);
    this.#cleanups.push(() => outbox.off('queued', onQueued).off('delivered', onDelivered).off('retry', onRetry).off('failed', onFailed));
    const onClip = (entry: InboxEntry, ogg: Uint8Array | undefined) => {
      if (ogg) {
        // Kept for the playback that follows, bounded: a radio that never plays them reopens from disk.
        this.#freshAudio.set(entry.clipId, ogg);
        for (const old of this.#freshAudio.keys()) if (this.#freshAudio.size > FRESH_AUDIO_KEPT) this.#freshAudio.delete(old);
      }
      this.emit('received', entry);
      this.#dispatch({ type: 'clipArrived', clipId: entry.clipId });
    };
    receiver.events.on('clip', onClip);
    this.#cleanups.push(() => receiver.events.off('clip', onClip));
    // What an earlier run left: clips still to deliver, clips still to hear.
    for (const item of outbox.pending()) onQueued(item);
    for (const entry of receiver.inbox.entries()) if (!entry.played && entry.hasAudio) this.#dispatch({ type: 'clipArrived', clipId: entry.clipId });
    outbox.start();
    // The radio keeps its microphone open while idle, so a press starts with the pre-roll.
    hardware.microphone.open().catch((error: Error) => {
      this.emit('fault', { device: 'microphone', error });
      this.#dispatch({ type: 'hardwareFault', device: 'microphone', reason: error.message });
    });
  }

  #track(clipId: string, recipients: readonly Recipient[], radioId = clipId): Outgoing {
    let o = this.#outgoing.get(clipId);
    if (!o) this.#outgoing.set(clipId, (o = { radioId, remaining: new Set(), streamed: true }));
    for (const r of recipients) o.remaining.add(r.host);
    return o;
  }

  #delivered(item: OutboxItem, delivered: Delivered): void {
    const o = this.#outgoing.get(item.clipId);
    if (!o) return;
    o.remaining.delete(item.recipient.host);
    if (item.attempts > 0) o.streamed = false;
    if (o.remaining.size > 0) return;
    this.#outgoing.delete(item.clipId);
    const latencyMs = o.releasedAt === undefined ? null : performance.now() - o.releasedAt;
    this.#dispatch({ type: 'clipDelivered', clipId: o.radioId });
    this.emit('delivered', { clipId: item.clipId, latencyMs, bytesSent: delivered.bytesSent, waitMs: delivered.waitMs, via: o.streamed && item.attempts === 0 ? 'streamed' : 'queued' });
  }

  #ports(): RadioPorts {
    return {
      startRecording: (recordingId) => {
        // A press inside the previous recording's tail (a quick re-press, a double press) waits for
        // the microphone; the pre-roll (400 ms, longer than the tail) keeps what was said meanwhile.
        // Otherwise record() now: a MicrophoneError is thrown to the shell, which reports the fault.
        const mic = this.hardware.microphone;
        const recording = this.#micBusy ? this.#micBusy.then(() => mic.record()) : mic.record();
        const clipId = randomBytes(16).toString('hex');
        const recipients = this.members.map((c) => recipientFor(c));
        const session = TalkSession.press({ connector: this.torLink.connector(), outbox: this.outbox, recipients, clipId });
        const talk = new Talk({
          recording,
          session,
          clipId,
          channel: this.channel,
          signer: this.identity.signer,
          recipients: this.members.map((c) => c.ageRecipient),
          sequence: () => nextSequence(this.identity.dataDir),
          createdAt: Date.now(),
        });
        this.#talks.set(recordingId, { talk, clipId });
        const busy = talk.micReleased;
        this.#micBusy = busy;
        void busy.then(() => {
          if (this.#micBusy === busy) this.#micBusy = undefined;
        });
        this.#track(clipId, [], recordingId);
        this.emit('recording', { recordingId, clipId });
        talk.done.then(
          async ({ header, stored, storedBytes, wireBytes }) => {
            this.emit('sealed', { clipId, durationMs: header.durationMs, storedBytes, wireBytes });
            this.#track(clipId, recipients, recordingId);
            const { outcomes } = await session.release(stored);
            await outcomes;
          },
          (err: Error) => {
            this.#outgoing.delete(clipId);
            if (this.#stopping) return;
            if (this.#talks.get(recordingId)?.talk === talk) {
              // The microphone failed while the button was held.
              this.#dispatch({ type: 'hardwareFault', device: 'microphone', reason: err.message });
            }
            // A tap (or a press cancelled by the radio) is the user's choice, not a failure.
            if (err instanceof RecordingDiscarded) log.info('recording discarded', { clipId, reason: err.reason });
            else log.warn('recording failed', { clipId, err });
          },
        ).catch((err: unknown) => {
          // Persisting failed (disk full): the clip is lost, say so.
          this.#outgoing.delete(clipId);
          log.error('clip could not be handed to the outbox', { clipId, err });
          this.#dispatch({ type: 'clipFailed', clipId: recordingId, reason: 'storage' });
          this.emit('failed', { clipId, reason: (err as Error).message });
        });
      },
      stopRecording: (recordingId) => {
        const t = this.#talks.get(recordingId);
        this.#talks.delete(recordingId);
        if (!t) return;
        const o = this.#outgoing.get(t.clipId);
        if (o) o.releasedAt = performance.now();
        t.talk.stop();
        this.emit('released', { clipId: t.clipId });
      },
      discardRecording: (recordingId, reason) => {
        const t = this.#talks.get(recordingId);
        this.#talks.delete(recordingId);
        if (!t) return;
        this.#outgoing.delete(t.clipId);
        t.talk.abort(new RecordingDiscarded(reason));
      },
      sendClip: () => {
        // Nothing to do here: the clip reaches the outbox when its tail is sealed (stopRecording's Talk).
      },
      play: (playbackId, clipId) => this.#play(playbackId, clipId),
      stopPlayback: (playbackId) => {
        this.#playbacks.get(playbackId)?.abort();
        this.#playbacks.delete(playbackId);
      },
    };
  }

  #play(playbackId: string, clipId: string): void {
    const abort = new AbortController();
    this.#playbacks.set(playbackId, abort);
    const entry = this.receiver.inbox.get(clipId);
    this.emit('playing', { clipId, from: entry?.senderName ?? '?' });
    const verifiedOgg = this.#freshAudio.get(clipId);
    this.#freshAudio.delete(clipId);
    const playing = this.#speakerBusy.then(() =>
      playStoredClip({
        inbox: this.receiver.inbox, clipId, identity: this.identity, contacts: this.config.contacts, speaker: this.hardware.speaker, signal: abort.signal,
        ...(verifiedOgg ? { verifiedOgg } : {}),
      }),
    );
    this.#speakerBusy = playing.then(
      () => undefined,
      () => undefined,
    );
    playing
      .then(async (r) => {
        if (r.interrupted || abort.signal.aborted) return; // talk took over; the clip stays unheard
        await this.receiver.inbox.markPlayed(clipId);
        this.emit('played', { clipId, samples: r.samples, interrupted: false, durationMs: r.clip.durationMs });
        this.#dispatch({ type: 'playbackEnded', playbackId });
      })
      .catch(async (err: Error) => {
        if (this.#stopping) return;
        if (err instanceof UnplayableClipError) {
          log.error('skipping a clip that cannot be played', { clipId, err });
          await this.receiver.inbox.markPlayed(clipId).catch(() => undefined);
          this.#dispatch({ type: 'playbackEnded', playbackId });
          return;
        }
        this.emit('fault', { device: 'speaker', error: err });
        this.#dispatch({ type: 'hardwareFault', device: 'speaker', reason: err.message });
      })
      .finally(() => this.#playbacks.delete(playbackId));
  }

  /** Stops everything: recordings are cut (the outbox keeps what was persisted), tor is stopped, hardware closed. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      for (const c of this.#cleanups.splice(0)) c();
      this.shell.close();
      for (const { talk } of this.#talks.values()) talk.abort(new Error('the radio is stopping'));
      this.#talks.clear();
      for (const a of this.#playbacks.values()) a.abort();
      const steps = [
        () => this.outbox.stop(),
        () => this.receiver.close(), // and its inbox
        () => this.torLink.stop(),
        () => closeHardware(this.hardware),
      ];
      let first: unknown;
      for (const step of steps) {
        try {
          await step();
        } catch (err) {
          log.error('stop step failed', { err });
          first ??= err;
        }
      }
      if (first !== undefined) throw first;
    })();
    return this.#stopping;
  }
}
