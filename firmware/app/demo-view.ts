// The demo's live terminal view of several radios. On a terminal: one status line per radio (LED dot
// and pattern as the real LED would show it, tor state, counters) redrawn in place, with an event log
// scrolling above it. Into a pipe or a log: one timestamped line per event, no redraws.
import type { RecordingLed } from '../../hardware/sim/recording-led.js';
import type { TorStatus } from '../tor/index.js';
import type { RadioApp } from './radio-app.js';

export interface ViewOutput {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  /** Terminal width: status lines are cut to it, since a wrapped line would break the redraw. */
  readonly columns?: number;
}

interface Row {
  readonly name: string;
  readonly app: RadioApp;
  readonly led: RecordingLed;
  tor: string;
  pattern: string | undefined;
  sent: number;
  delivered: number;
  received: number;
  played: number;
}

const UP = (n: number) => `\u001b[${n}A`;
const CLEAR_DOWN = '\u001b[0J';

function torText(s: TorStatus): string {
  switch (s.state) {
    case 'starting':
      return 'tor starting';
    case 'bootstrapping':
      return `tor bootstrapping ${s.progress}%`;
    case 'connected':
      return 'tor connected';
    case 'clockWrong':
      return 'tor waits: clock wrong';
    case 'error':
      return `tor error: ${s.error.message}`;
  }
}

export class DemoView {
  readonly #rows: Row[] = [];
  readonly #tty: boolean;
  readonly #started = performance.now();
  #drawn = 0;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(private readonly out: ViewOutput) {
    this.#tty = out.isTTY === true;
    // A terminal gets the status lines redrawn; a log gets a line whenever an LED changes pattern.
    this.#timer = setInterval(() => (this.#tty ? this.#redraw() : this.#logLedChanges()), 100);
  }

  #logLedChanges(): void {
    for (const r of this.#rows) {
      if (r.led.pattern === r.pattern) continue;
      r.pattern = r.led.pattern;
      if (r.pattern !== undefined) this.note(`${r.name}: LED shows "${r.pattern}"`);
    }
  }

  /** A line in the log (above the status lines on a terminal). */
  note(text: string): void {
    if (this.#closed) return;
    const stamp = `[${((performance.now() - this.#started) / 1000).toFixed(1).padStart(6)} s]`;
    if (!this.#tty) {
      this.out.write(`${stamp} ${text}\n`);
      return;
    }
    this.out.write(this.#erase() + `${stamp} ${text}\n`);
    this.#redraw();
  }

  /** Shows a radio and narrates what it does. */
  watch(name: string, app: RadioApp, led: RecordingLed): void {
    const row: Row = { name, app, led, tor: 'tor starting', pattern: undefined, sent: 0, delivered: 0, received: 0, played: 0 };
    this.#rows.push(row);
    let lastProgress = -100;
    app.on('tor', (s) => {
      row.tor = torText(s);
      // Bootstrap progress in steps, so a log shows it without a line per tor event.
      if (s.state === 'bootstrapping' && s.progress - lastProgress < 25) return;
      if (s.state === 'bootstrapping') lastProgress = s.progress;
      this.note(`${name}: ${row.tor}`);
    });
    app.on('onion', (onion) => this.note(`${name}: onion service published at ${onion.slice(0, 16)}….onion`));
    app.on('recording', () => this.note(`${name}: talk button down, recording and streaming to ${app.members.map((m) => m.name).join(', ')}`));
    app.on('released', () => this.note(`${name}: talk button up, sending the tail`));
    app.on('sealed', (e) => {
      row.sent++;
      this.note(`${name}: clip sealed, ${(e.durationMs / 1000).toFixed(1)} s of audio, ${e.wireBytes} bytes streamed`);
    });
    app.on('queued', (e) => this.note(`${name}: clip for ${e.to} persisted in the outbox`));
    app.on('retry', (e) => this.note(`${name}: delivery to ${e.to} failed, will retry (${e.error})`));
    app.on('delivered', (e) => {
      row.delivered++;
      this.note(`${name}: delivered (${e.via}), receipt verified${e.latencyMs === null ? '' : `, ${e.latencyMs.toFixed(0)} ms after release`}`);
    });
    app.on('failed', (e) => this.note(`${name}: clip not delivered: ${e.reason}`));
    app.on('received', (e) => {
      row.received++;
      this.note(`${name}: received a clip from ${e.senderName} on "${e.channel}" (signature verified)`);
    });
    app.on('playing', (e) => this.note(`${name}: playing the clip from ${e.from}`));
    app.on('played', (e) => {
      row.played++;
      this.note(`${name}: played ${(e.durationMs / 1000).toFixed(1)} s to the speaker`);
    });
    app.on('fault', (e) => this.note(`${name}: ${e.device} fault: ${e.error.message}`));
  }

  close(): void {
    if (this.#closed) return;
    clearInterval(this.#timer);
    if (this.#tty) this.#redraw();
    this.#closed = true;
  }

  #line(r: Row): string {
    const dot = r.led.on ? '●' : '○';
    const pattern = (r.led.pattern ?? '').padEnd(13);
    return `  ${r.name.padEnd(6)} LED ${dot} ${pattern} ${r.tor.padEnd(24)} sent ${r.sent}  delivered ${r.delivered}  received ${r.received}  played ${r.played}`;
  }

  #erase(): string {
    const s = this.#drawn > 0 ? UP(this.#drawn) + '\r' + CLEAR_DOWN : '';
    this.#drawn = 0;
    return s;
  }

  #redraw(): void {
    if (!this.#tty || this.#closed) return;
    const width = Math.max(20, (this.out.columns ?? 200) - 1);
    const lines = this.#rows.map((r) => [...this.#line(r)].slice(0, width).join(''));
    this.out.write(this.#erase() + lines.map((l) => l + '\n').join(''));
    this.#drawn = lines.length;
  }
}
