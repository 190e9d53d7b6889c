// One tor process of the private network: spawned with a generated torrc, owned by the harness
// (TAKEOWNERSHIP on its control connection plus __OwningControllerProcess in the torrc), watched
// through STATUS_CLIENT and HS_DESC events, and stopped by PID with SIGTERM then SIGKILL. The control
// connection, authentication and stop escalation are the firmware's own (firmware/tor), so the
// harness exercises them too.
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLog } from '../../firmware/log.js';
import { authenticate } from '../../firmware/tor/control-auth.js';
import { ControlConnection } from '../../firmware/tor/control-connection.js';
import { stopProcess } from '../../firmware/tor/process-stop.js';
import { trackPid, untrackPid } from './exit-hook.js';
import type { NodeRole } from './torrc.js';

const log = createLog('testnet');

export interface NodePorts {
  readonly control: number;
  readonly or?: number;
  readonly dir?: number;
  readonly socks?: number;
}

export interface TorNodeSpec {
  readonly role: NodeRole;
  readonly nickname: string;
  readonly dataDir: string;
  readonly torrc: readonly string[];
  readonly ports: NodePorts;
  readonly torBinary?: string;
  /** How long tor may take to open its control port. */
  readonly startTimeoutMs?: number;
}

/** Tor exited, could not be spawned, or did not open its control port. Carries tor's own last lines. */
export class TorStartError extends Error {
  override readonly name = 'TorStartError';
  constructor(
    readonly node: string,
    readonly detail: string,
    readonly outputTail: string,
  ) {
    super(`tor ${node} did not start: ${detail}${outputTail ? `\n${outputTail}` : ''}`);
  }
}

/** The last `count` lines of a node's notice log, or '' if it has none yet. */
export function noticeLogTail(dataDir: string, count = 15): string {
  try {
    const lines = readFileSync(join(dataDir, 'notice.log'), 'utf8').trimEnd().split('\n');
    return lines.slice(-count).join('\n');
  } catch {
    return '';
  }
}

const bootstrapProgress = /BOOTSTRAP PROGRESS=(\d+)/;

export class TorNode extends EventEmitter {
  readonly name: string;
  readonly role: NodeRole;
  readonly dataDir: string;
  readonly ports: NodePorts;
  readonly pid: number;
  /** Latest bootstrap percentage seen in STATUS_CLIENT events or GETINFO. */
  progress = 0;
  /** performance.now() when progress first reached 100. */
  bootstrappedAt: number | undefined;
  /** Onion service IDs (without ".onion") whose descriptor reached at least one HSDir. */
  readonly uploaded = new Set<string>();
  exitCode: number | null | undefined;
  private control: ControlConnection | undefined;
  private readonly exitedPromise: Promise<void>;

  constructor(
    spec: TorNodeSpec,
    private readonly child: ChildProcess & { pid: number },
    private readonly output: string[],
  ) {
    super();
    this.name = spec.nickname;
    this.role = spec.role;
    this.dataDir = spec.dataDir;
    this.ports = spec.ports;
    this.pid = child.pid;
    this.exitedPromise = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitCode = code ?? (signal ? -1 : null);
        untrackPid(this.pid);
        log.debug('tor exited', { node: this.name, code, signal });
        this.emit('change');
        resolve();
      });
    });
  }

  get exited(): boolean {
    return this.exitCode !== undefined;
  }

  /** Tor's recent stdout/stderr and notice log, for error messages. */
  tail(count = 15): string {
    return noticeLogTail(this.dataDir, count) || this.output.slice(-count).join('\n');
  }

  /** The authenticated control connection (only after launchTorNode resolved). */
  get controlConnection(): ControlConnection {
    if (!this.control) throw new Error(`${this.name} has no control connection`);
    return this.control;
  }

  async attachControl(): Promise<void> {
    const control = await ControlConnection.connect({ port: this.ports.control });
    this.control = control;
    await authenticate(control);
    control.on('STATUS_CLIENT', (event) => this.onEvent(event.name, event.text));
    control.on('HS_DESC', (event) => this.onEvent(event.name, event.text));
    await control.command('TAKEOWNERSHIP');
    // Subscribe before asking for the current state, so no transition falls between the two.
    await control.command('SETEVENTS STATUS_CLIENT HS_DESC');
    const reply = await control.command('GETINFO status/bootstrap-phase');
    const m = bootstrapProgress.exec(reply.lines.map((l) => l.text).join(' '));
    if (m?.[1]) this.noteProgress(Number(m[1]));
  }

  private noteProgress(value: number): void {
    this.progress = Math.max(this.progress, value);
    if (this.progress >= 100) this.bootstrappedAt ??= performance.now();
  }

  private onEvent(name: string, text: string): void {
    const progress = name === 'STATUS_CLIENT' ? bootstrapProgress.exec(text) : null;
    if (progress?.[1]) this.noteProgress(Number(progress[1]));
    const desc = name === 'HS_DESC' ? /^UPLOADED (\S+)/.exec(text) : null;
    if (desc?.[1]) this.uploaded.add(desc[1]);
    this.emit('change');
  }

  /** Resolves true once tor has exited, or false if it is still running after `ms`. */
  async exitWithin(ms: number): Promise<boolean> {
    return Promise.race([this.exitedPromise.then(() => true), delay(ms, false)]);
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. Idempotent. */
  async stop(graceMs = 3000): Promise<void> {
    // Escalation matters: in the planning runs a relay logged "exiting cleanly" and then hung on a futex.
    if (!this.exited) await stopProcess(this.child, graceMs);
    await this.exitedPromise;
    await this.control?.close();
  }
}

/** Tor's own warnings and errors from start-up (or its last lines if it printed none). */
function startFailureLines(output: readonly string[]): string {
  const errors = output.filter((l) => /\[(err|warn)\]/.test(l));
  return (errors.length ? errors : output).slice(-8).join('\n');
}

/** Writes the torrc, spawns tor, waits for its control port and takes ownership of it. */
export async function launchTorNode(spec: TorNodeSpec): Promise<TorNode> {
  await mkdir(spec.dataDir, { recursive: true, mode: 0o700 });
  await chmod(spec.dataDir, 0o700);
  const torrcPath = join(spec.dataDir, 'torrc');
  await writeFile(torrcPath, spec.torrc.join('\n') + '\n', { mode: 0o600 });
  const binary = spec.torBinary ?? 'tor';
  const child = spawn(binary, ['-f', torrcPath, '--ignore-missing-torrc'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const spawned = await new Promise<ChildProcess & { pid: number }>((resolve, reject) => {
    child.once('spawn', () => resolve(child as ChildProcess & { pid: number }));
    child.once('error', (e: NodeJS.ErrnoException) =>
      reject(new TorStartError(spec.nickname, e.code === 'ENOENT' ? `${binary} is not installed (run scripts/setup)` : e.message, '')),
    );
  });
  trackPid(spawned.pid);
  const node = new TorNode(spec, spawned, output);
  const wanted = `Opened Control listener connection (ready) on 127.0.0.1:${spec.ports.control}`;
  let timer: NodeJS.Timeout | undefined;
  const ready = new Promise<void>((resolve, reject) => {
    let partial = '';
    const onData = (d: Buffer) => {
      const lines = (partial + d.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) {
        output.push(l);
        if (output.length > 60) output.shift();
        if (l.includes(wanted)) resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code, signal) => reject(new TorStartError(spec.nickname, `exited with ${signal ?? `code ${code}`}`, startFailureLines(output))));
    const timeoutMs = spec.startTimeoutMs ?? 30_000;
    timer = setTimeout(() => reject(new TorStartError(spec.nickname, `no control port after ${timeoutMs / 1000} s`, startFailureLines(output))), timeoutMs);
  });
  try {
    await ready;
    // Tor opens its control listener before its other ports, so a taken SocksPort makes it exit while
    // the harness is connecting: the exit, with tor's own reason, is the error to report then.
    await node.attachControl().catch(async (e: unknown) => {
      if (await node.exitWithin(1000)) throw new TorStartError(spec.nickname, `exited with code ${node.exitCode}`, startFailureLines(output));
      throw e;
    });
  } catch (e) {
    await node.stop(1000);
    throw e;
  } finally {
    clearTimeout(timer);
  }
  log.debug('tor started', { node: node.name, role: node.role, pid: node.pid, ports: spec.ports });
  return node;
}
