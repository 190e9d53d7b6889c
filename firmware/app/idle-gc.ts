// A full garbage collection when the radio goes back to idle after a clip (sent and delivered, or
// played) and its heap has grown since the last one, because V8 left alone carries the dead clips
// in RSS for hundreds of clips: it runs a full collection only when the old generation has grown
// ~8 MB past what survived the previous one, each clip leaves 10-20 KB there (streams, the HTTP
// exchange, buffers that outlived the 1 MB young generation), and its memory reducer, which would
// shrink an idle heap, stops after its start-up runs. Idle is where a radio spends its life and
// nothing is recording or playing there to be delayed; collecting once the old generation has
// grown by half a megabyte costs one ~10 ms collection every few dozen clips.
// Needs node's --expose-gc (torlk.service's NODE_OPTIONS); without it this is a no-op.
import { getHeapSpaceStatistics } from 'node:v8';
import type { RadioState } from '../radio/radio-types.js';
import { createLog } from '../log.js';

const log = createLog('idle-gc');

/** What the collector watches: the app's clip-finished events and the radio's state. */
export interface IdleSource {
  readonly shell: { readonly state: RadioState };
  on(event: 'delivered' | 'played' | 'failed', listener: () => void): unknown;
  off(event: 'delivered' | 'played' | 'failed', listener: () => void): unknown;
}

export interface IdleGcOptions {
  /** The collector; default: node's global gc() when --expose-gc gave one. */
  readonly gc?: () => void;
  /** Bytes in the old generation (default: V8's spaces other than the young generation's). */
  readonly oldGenerationBytes?: () => number;
  /** Growth since the last collection that makes an idle radio collect (default 512 KiB). */
  readonly growthBytes?: number;
  /** Wait after the clip ends (default 0: the next turn of the event loop, once the state machine has settled). */
  readonly delayMs?: number;
}

/** Nothing recording, playing, waiting to be heard or waiting for a receipt. */
export function radioIsIdle(state: RadioState): boolean {
  return state.activity.kind === 'idle' && state.outgoing.length === 0 && state.unheard.length === 0;
}

/** Old-generation bytes in use: young-generation garbage is the scavenger's, and cheap. */
export function oldGenerationUsed(): number {
  let used = 0;
  for (const s of getHeapSpaceStatistics()) if (!s.space_name.startsWith('new_')) used += s.space_used_size;
  return used;
}

/** Starts collecting on idle; returns the function that stops it. */
export function collectWhenIdle(source: IdleSource, options: IdleGcOptions = {}): () => void {
  const gc = options.gc ?? (globalThis as { gc?: () => void }).gc;
  if (typeof gc !== 'function') return () => undefined;
  const delayMs = options.delayMs ?? 0;
  const growthBytes = options.growthBytes ?? 512 * 1024;
  const oldBytes = options.oldGenerationBytes ?? oldGenerationUsed;
  let afterLast = oldBytes();
  let timer: NodeJS.Timeout | undefined;
  const collect = () => {
    timer = undefined;
    if (!radioIsIdle(source.shell.state)) return; // the next clip started: its own end will collect
    const before = oldBytes();
    if (before - afterLast < growthBytes) return;
    const t0 = performance.now();
    gc();
    afterLast = oldBytes();
    log.debug('collected at idle', { ms: Math.round((performance.now() - t0) * 10) / 10, before, after: afterLast });
  };
  const onClipEnd = () => {
    timer ??= setTimeout(collect, delayMs);
    timer.unref();
  };
  const events = ['delivered', 'played', 'failed'] as const;
  for (const e of events) source.on(e, onClipEnd);
  return () => {
    for (const e of events) source.off(e, onClipEnd);
    if (timer) clearTimeout(timer);
    timer = undefined;
  };
}
