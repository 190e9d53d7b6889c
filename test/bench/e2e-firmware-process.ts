// A radio of the e2e benchmark in a process of its own, launched the way the firmware runs on the
// device: the program bundled with its npm packages inlined (like scripts/build.mjs makes
// dist/torlk.cjs; only onoff/epoll stay external there, as here), and node started with every
// Environment= variable of the image's systemd unit (torlk.service: NODE_OPTIONS, the malloc
// setting, the log level) and the node flags of its ExecStart=, read from that file so the bench
// cannot drift from what the device runs.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { build, stop } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
export const SERVICE_UNIT = 'scripts/image/overlay/etc/systemd/system/torlk.service';

export class ServiceUnitError extends Error {
  override readonly name = 'ServiceUnitError';
  constructor(
    readonly unitPath: string,
    message: string,
  ) {
    super(`${unitPath}: ${message}`);
  }
}

/**
 * Splits one Environment= value into its assignments the way systemd does: separated by spaces,
 * each optionally in double or single quotes (which may hold spaces), backslash escaping the next
 * character. Specifiers (%) are not used by torlk.service and are refused rather than misread.
 */
export function parseEnvironmentLine(value: string, unitPath = SERVICE_UNIT): [string, string][] {
  const words: string[] = [];
  let word: string | undefined;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c === '\\' && i + 1 < value.length) {
      word = (word ?? '') + value[++i];
    } else if (quote) {
      if (c === quote) quote = undefined;
      else word = (word ?? '') + c;
    } else if (c === '"' || c === "'") {
      quote = c;
      word ??= '';
    } else if (/\s/.test(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else {
      if (c === '%') throw new ServiceUnitError(unitPath, `Environment=${value}: specifiers (%) are not supported by the bench`);
      word = (word ?? '') + c;
    }
  }
  if (quote) throw new ServiceUnitError(unitPath, `Environment=${value}: unterminated ${quote} quote`);
  if (word !== undefined) words.push(word);
  return words.map((w) => {
    const eq = w.indexOf('=');
    if (eq <= 0) throw new ServiceUnitError(unitPath, `Environment=${value}: "${w}" is not NAME=value`);
    return [w.slice(0, eq), w.slice(eq + 1)];
  });
}

/** Every variable the unit's Environment= lines set (later lines win, as in systemd). */
export function firmwareEnvironment(unitPath = join(process.cwd(), SERVICE_UNIT)): Record<string, string> {
  const env: Record<string, string> = {};
  for (const raw of readFileSync(unitPath, 'utf8').split('\n')) {
    const m = /^Environment=(.*)$/.exec(raw.trim());
    if (!m) continue;
    for (const [k, v] of parseEnvironmentLine(m[1]!, unitPath)) env[k] = v;
  }
  if (!env.NODE_OPTIONS) {
    throw new ServiceUnitError(unitPath, 'no Environment=NODE_OPTIONS=... line: the bench would not run the firmware as the device does');
  }
  return env;
}

/**
 * The node flags of the unit's ExecStart= (between node and the bundle: V8 flags NODE_OPTIONS
 * refuses, like --optimize-for-size, can only go there), so the bench passes them too.
 */
export function firmwareNodeArgs(unitPath = join(process.cwd(), SERVICE_UNIT)): string[] {
  for (const raw of readFileSync(unitPath, 'utf8').split('\n')) {
    const m = /^ExecStart=(.*)$/.exec(raw.trim());
    if (!m) continue;
    const words = m[1]!.trim().split(/\s+/);
    if (!/(^|\/)node$/.test(words[0] ?? '')) throw new ServiceUnitError(unitPath, `ExecStart=${m[1]} does not start node: the bench cannot mirror it`);
    const script = words.findIndex((w, i) => i > 0 && !w.startsWith('-'));
    if (script < 0) throw new ServiceUnitError(unitPath, `ExecStart=${m[1]} names no script`);
    return words.slice(1, script);
  }
  throw new ServiceUnitError(unitPath, 'no ExecStart= line');
}

/** The value of torlk.service's NODE_OPTIONS. */
export function firmwareNodeOptions(unitPath = join(process.cwd(), SERVICE_UNIT)): string {
  return firmwareEnvironment(unitPath).NODE_OPTIONS!;
}

export interface FirmwareStats {
  readonly rss: number;
  /** Anonymous resident memory (V8 heap, malloc) and the rest (file-backed: node, libraries, the addon). */
  readonly anon: number;
  readonly file: number;
  readonly heapUsed: number;
  readonly heapTotal: number;
  readonly external: number;
  readonly arrayBuffers: number;
  readonly cpuSeconds: number;
  /** V8's spaces (old_space, code_space, new_space...): bytes used and committed, for diagnosis. */
  readonly spaces?: Record<string, { used: number; committed: number }>;
}

let bundled: Promise<string> | undefined;

/** e2e-radio-child.ts bundled once per run, packages inlined like the firmware's own bundle. */
function bundleChild(): Promise<string> {
  bundled ??= (async () => {
    const outfile = join(here, 'e2e-radio-child.mjs'); // beside this bench's own bundle (scripts/bench.mjs's cache dir)
    await build({
      entryPoints: [join(process.cwd(), 'test/bench/e2e-radio-child.ts')], // this module itself runs from a bundle elsewhere
      outfile,
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'esm',
      external: ['onoff', 'epoll'],
      banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
      logLevel: 'warning',
      legalComments: 'none',
    });
    // An idle esbuild service wakes ~60 times a second: not beside the radios while they are timed.
    await stop();
    return outfile;
  })();
  return bundled;
}

/** The receiver's timings for one clip, from its "clip stored" log line (firmware/transport/receiver.ts). */
export interface ReceiverTimings {
  /** From the body's last chunk to the receipt handed to the socket. */
  readonly workMs: number;
  /** Of which from the body's end to the opened (verified) clip. */
  readonly verifyMs: number;
  /** Of which from the opened clip to the durable inbox entry (receipt signed, journal appended). */
  readonly storeMs: number;
}

/**
 * Reads a radio's stderr (JSON log lines, at torlk.service's level, info) as it arrives, in any
 * chunking, and keeps the receiver's timings per received clip id.
 */
export class ReceiverLog {
  readonly byClip = new Map<string, ReceiverTimings>();
  #partial = '';

  /** Decoded stderr text, as it comes (a line may be split between calls). */
  feed(text: string): void {
    const lines = (this.#partial + text).split('\n');
    this.#partial = lines.pop()!;
    for (const line of lines) {
      if (!line.includes('"clip stored"')) continue;
      let l: Record<string, unknown>;
      try {
        l = JSON.parse(line) as Record<string, unknown>;
      } catch {
        continue; // not a log line of ours
      }
      const { clipId, workMs, verifyMs, storeMs } = l;
      if (typeof clipId === 'string' && typeof workMs === 'number' && typeof verifyMs === 'number' && typeof storeMs === 'number') {
        this.byClip.set(clipId, { workMs, verifyMs, storeMs });
      }
    }
  }
}

export class FirmwareProcess extends EventEmitter {
  readonly lines: Record<string, unknown>[] = [];
  stderrTail = '';
  /** The receiver's timings per received clip id, from its "clip stored" log lines. */
  readonly receiverLog = new ReceiverLog();
  private constructor(
    readonly name: string,
    readonly child: ChildProcessWithoutNullStreams,
  ) {
    super();
    createInterface({ input: child.stdout }).on('line', (line) => {
      let msg: Record<string, unknown>;
      try {
        msg = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return; // a log line
      }
      this.lines.push(msg);
      this.emit(`m:${String(msg.t)}`, msg); // prefixed: a child's "error" message is not an EventEmitter error
    });
    // The last of its stderr (logs at error level, a crash's stack) goes into the error if it exits.
    // Decoded as a stream: a character split between two reads stays whole.
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      this.stderrTail = (this.stderrTail + chunk).slice(-2000);
      this.receiverLog.feed(chunk);
      // TORLK_BENCH_CHILD_LOG=<level> shows the radio's own logs (timings) on the bench's stderr.
      if (process.env.TORLK_BENCH_CHILD_LOG) process.stderr.write(chunk);
    });
  }

  static async start(name: string, config: object): Promise<FirmwareProcess> {
    const outfile = await bundleChild();
    // The unit's variables over the bench's own (PATH for tor, TMPDIR); the radio logs at the
    // unit's level like on the device (its stderr is drained here) unless TORLK_BENCH_CHILD_LOG asks.
    const env: NodeJS.ProcessEnv = { ...process.env, ...firmwareEnvironment() };
    if (process.env.TORLK_BENCH_CHILD_LOG) env.TORLK_LOG = process.env.TORLK_BENCH_CHILD_LOG;
    const child = spawn(process.execPath, [...firmwareNodeArgs(), outfile, JSON.stringify(config)], { cwd: process.cwd(), env });
    return new FirmwareProcess(name, child);
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** The next message `t` (an earlier one counts for the one-off messages); rejects on a child error or exit. */
  next(t: string, ms: number, match: (m: Record<string, unknown>) => boolean = () => true): Promise<Record<string, unknown>> {
    const oneOff = !['stats', 'played', 'delivered', 'online', 'error', 'gc', 'talked', 'sent'].includes(t);
    const seen = oneOff ? this.lines.find((m) => m.t === t && match(m)) : undefined;
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.off(`m:${t}`, on);
        this.off('m:error', onError);
        this.child.off('exit', onExit);
      };
      const timer = setTimeout(() => (done(), reject(new Error(`${this.name}'s process: no "${t}" within ${ms / 1000} s`))), ms);
      const on = (m: Record<string, unknown>) => match(m) && (done(), resolve(m));
      const onError = (m: Record<string, unknown>) => (done(), reject(new Error(`${this.name}'s process: ${String(m.message)}`)));
      const onExit = (code: number | null) => (done(), reject(new Error(`${this.name}'s process exited (${code}) while waiting for "${t}"; its stderr ended with:\n${this.stderrTail}`)));
      this.on(`m:${t}`, on);
      if (t !== 'error') this.on('m:error', onError);
      this.child.once('exit', onExit);
    });
  }

  async request(command: string, reply: string, ms: number): Promise<Record<string, unknown>> {
    const answer = this.next(reply, ms);
    this.child.stdin.write(`${command}\n`);
    return answer;
  }

  async stats(): Promise<FirmwareStats> {
    return (await this.request('stats', 'stats', 10_000)) as unknown as FirmwareStats;
  }

  /** "stop" on stdin (the app stops its tor), then SIGTERM, then SIGKILL. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.stdin.write('stop\n');
    const term = setTimeout(() => this.child.kill('SIGTERM'), 15_000);
    const kill = setTimeout(() => this.child.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(term);
    clearTimeout(kill);
  }
}
