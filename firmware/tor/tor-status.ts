// Tor's state as the radio core and the LED see it. STATUS_CLIENT events (control-spec §4.1.10)
// are folded into a small union by a pure function; TorStatusStream holds the latest value and
// tells subscribers about changes. No polling: every change comes from an event.
import { parseKeywords } from './control-keywords.js';

export type TorStatus =
  | { state: 'starting' }
  | { state: 'clockWrong'; now: Date; buildTime: Date }
  | { state: 'bootstrapping'; progress: number; tag: string; summary: string; warning?: string }
  | { state: 'connected' }
  | { state: 'error'; error: Error; restartInMs?: number };

/**
 * Folds one STATUS_CLIENT event text ("NOTICE BOOTSTRAP PROGRESS=5 TAG=conn SUMMARY=...") into the
 * status. Unknown or irrelevant events leave it unchanged.
 */
export function statusAfterClientEvent(previous: TorStatus, eventText: string): TorStatus {
  const { positional, values } = parseKeywords(eventText);
  const [severity, action] = positional;
  if (action === 'BOOTSTRAP') {
    const progress = Number(values.get('PROGRESS'));
    if (!Number.isInteger(progress) || progress < 0 || progress > 100) return previous;
    const tag = values.get('TAG') ?? '';
    const summary = values.get('SUMMARY') ?? '';
    if (progress === 100) return { state: 'connected' };
    const status: TorStatus = { state: 'bootstrapping', progress, tag, summary };
    // A WARN bootstrap line is a problem tor will retry past; keep bootstrapping but say why.
    if (severity === 'WARN' && values.get('RECOMMENDATION') === 'warn') {
      status.warning = values.get('WARNING') ?? values.get('REASON') ?? 'bootstrap problem';
    }
    return status;
  }
  if (action === 'CIRCUIT_ESTABLISHED') return { state: 'connected' };
  if (action === 'CIRCUIT_NOT_ESTABLISHED' && previous.state === 'connected') {
    const reason = values.get('REASON') ?? 'unknown';
    return { state: 'bootstrapping', progress: 100, tag: 'circuit_not_established', summary: `No circuit: ${reason}` };
  }
  return previous;
}

/** Parses GETINFO status/bootstrap-phase ("NOTICE BOOTSTRAP PROGRESS=..."), used once right after connecting. */
export function statusFromBootstrapPhase(phase: string): TorStatus {
  return statusAfterClientEvent({ state: 'starting' }, phase);
}

export class TorStatusStream {
  private value: TorStatus = { state: 'starting' };
  private readonly listeners = new Set<(status: TorStatus) => void>();

  get current(): TorStatus {
    return this.value;
  }

  /** Calls the listener with the current status now, then on every change. Returns an unsubscribe function. */
  subscribe(listener: (status: TorStatus) => void): () => void {
    this.listeners.add(listener);
    listener(this.value);
    return () => this.listeners.delete(listener);
  }

  /** Resolves when a status satisfies the predicate (immediately if the current one does). */
  waitFor(predicate: (status: TorStatus) => boolean, signal?: AbortSignal): Promise<TorStatus> {
    return new Promise((resolve, reject) => {
      const stop = this.subscribe((s) => {
        if (!predicate(s)) return;
        queueMicrotask(() => stop());
        resolve(s);
      });
      signal?.addEventListener('abort', () => {
        stop();
        reject(signal.reason);
      });
    });
  }

  set(next: TorStatus): void {
    if (sameStatus(this.value, next)) return;
    this.value = next;
    for (const listener of [...this.listeners]) listener(next);
  }
}

function sameStatus(a: TorStatus, b: TorStatus): boolean {
  if (a.state !== b.state) return false;
  if (a.state === 'bootstrapping' && b.state === 'bootstrapping') {
    return a.progress === b.progress && a.tag === b.tag && a.warning === b.warning;
  }
  return a.state === 'connected' || a.state === 'starting';
}
