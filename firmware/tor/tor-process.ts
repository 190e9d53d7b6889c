// One run of Debian's `tor` binary: writes an explicit torrc into its own DataDirectory (mode 0700),
// spawns it, learns the control port race-free from ControlPortWriteToFile, and keeps tor's own
// [warn]/[err] lines so a failure reads like "tor exited with code 1: Could not bind to ...".
// Restarting is the supervisor's job (tor-supervisor.ts); this module is one process, once.
import { spawn, type ChildProcess } from 'node:child_process';
import { watch, type FSWatcher } from 'node:fs';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { createLog } from '../log.js';
import { TorBinaryMissingError, TorExitedError, TorPortInUseError, TorStartTimeoutError } from './errors.js';
import { stopProcess, waitForExit, type ExitStatus } from './process-stop.js';

const log = createLog('tor:process');

export interface TorLaunchOptions {
  /** Tor's DataDirectory; created with mode 0700 if missing. Keys and state live here. */
  dataDir: string;
  /** Path or name of the tor binary; default "tor" from PATH. */
  torBinary?: string;
  /** SocksPort on 127.0.0.1: a number, "auto" (default) or 0 for none. ExtendedErrors is always on. */
  socksPort?: number | 'auto' | 0;
  /** Extra torrc lines, e.g. ["TestingTorNetwork 1", "DirAuthority ..."]. */
  extraConfig?: readonly string[];
  /** How long tor may take to open its control port. */
  startTimeoutMs?: number;
  /** Tor exits when this process does (__OwningControllerProcess). Default: this Node process. */
  owningPid?: number;
}

const keptErrorLines = 20;
const recentMs = 5000;

export class TorProcess {
  /** Tor's own [warn] and [err] lines, newest last (at most 20). */
  readonly errorLines: string[] = [];
  private readonly errorTimes: number[] = [];
  readonly exited: Promise<ExitStatus>;
  private readonly lineListeners = new Set<(line: string) => void>();

  constructor(
    readonly child: ChildProcess,
    readonly dataDir: string,
  ) {
    this.exited = waitForExit(child);
    for (const stream of [child.stdout, child.stderr]) {
      if (!stream) continue;
      createInterface({ input: stream }).on('line', (line) => this.onLine(line));
    }
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** Every line tor prints (its log goes to stdout). Returns an unsubscribe function. */
  onLogLine(listener: (line: string) => void): () => void {
    this.lineListeners.add(listener);
    return () => this.lineListeners.delete(listener);
  }

  /**
   * The typed error describing how this run ended. Only lines from the last few seconds count:
   * a warning from an hour ago says nothing about why tor died now.
   */
  exitError(status: ExitStatus): TorExitedError {
    const since = Date.now() - recentMs;
    const recent = this.errorLines.filter((_, i) => (this.errorTimes[i] ?? 0) >= since);
    const bind = recent.map((l) => /Could not bind to (\S+): Address already in use/.exec(l)).find(Boolean);
    if (bind) return new TorPortInUseError(bind[1] as string, status.code, status.signal, recent);
    return new TorExitedError(status.code, status.signal, recent);
  }

  /** SIGTERM, then SIGKILL after graceMs. */
  stop(graceMs = 5000): Promise<ExitStatus> {
    return stopProcess(this.child, graceMs);
  }

  private onLine(line: string): void {
    const m = /\[(warn|err)\] (.*)$/.exec(line);
    if (m) {
      this.errorLines.push(m[2] as string);
      this.errorTimes.push(Date.now());
      if (this.errorLines.length > keptErrorLines) {
        this.errorLines.shift();
        this.errorTimes.shift();
      }
    }
    log.debug('tor', { pid: this.pid, line });
    for (const listener of this.lineListeners) listener(line);
  }
}

/** Writes the torrc we own; every option is explicit so nothing from /etc/tor leaks in. */
export function torrcFor(options: TorLaunchOptions, dataDir: string): string {
  const socks = options.socksPort ?? 'auto';
  const q = (v: string) => (/[\s"#\\]/.test(v) ? JSON.stringify(v) : v);
  const lines = [
    `DataDirectory ${q(dataDir)}`,
    'RunAsDaemon 0',
    'ControlPort 127.0.0.1:auto',
    `ControlPortWriteToFile ${q(join(dataDir, 'control-port'))}`,
    'CookieAuthentication 1',
    socks === 0 ? 'SocksPort 0' : `SocksPort 127.0.0.1:${socks} ExtendedErrors`,
    `__OwningControllerProcess ${options.owningPid ?? process.pid}`,
    'Log notice stdout',
    'AvoidDiskWrites 1', // SD cards wear out
    ...(options.extraConfig ?? []),
  ];
  for (const line of lines) if (/[\r\n]/.test(line)) throw new TypeError(`torrc line contains a newline: ${JSON.stringify(line)}`);
  return lines.join('\n') + '\n';
}

/** Starts tor and resolves once its control port is known. Rejects with a typed error. */
export async function launchTor(options: TorLaunchOptions): Promise<{ process: TorProcess; controlPort: number }> {
  const dataDir = resolve(options.dataDir);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  await chmod(dataDir, 0o700); // tor refuses a group-readable DataDirectory
  const portFile = join(dataDir, 'control-port');
  await rm(portFile, { force: true }); // a stale file from the previous run would point at a dead port
  const torrc = join(dataDir, 'torrc');
  await writeFile(torrc, torrcFor(options, dataDir), { mode: 0o600 });
  const defaults = join(dataDir, 'torrc-defaults');
  await writeFile(defaults, '', { mode: 0o600 });

  const binary = options.torBinary ?? 'tor';
  const child = spawn(binary, ['--defaults-torrc', defaults, '-f', torrc], { stdio: ['ignore', 'pipe', 'pipe'] });
  const spawned = await new Promise<Error | undefined>((res) => {
    child.once('spawn', () => res(undefined));
    child.once('error', (err) => res(err));
  });
  if (spawned) throw new TorBinaryMissingError(binary, spawned);
  const tor = new TorProcess(child, dataDir);
  log.info('tor started', { pid: tor.pid, dataDir });

  let watcher: FSWatcher | undefined;
  let timer: NodeJS.Timeout | undefined;
  let unsubscribe = () => {};
  try {
    const controlPort = await new Promise<number>((resolvePort, reject) => {
      const check = () => {
        readFile(portFile, 'utf8').then(
          (text) => {
            const m = /^PORT=[^\n]*:(\d+)\s*$/m.exec(text);
            if (m) resolvePort(Number(m[1]));
          },
          () => {}, // not written yet
        );
      };
      watcher = watch(dataDir, (_event, name) => {
        if (name === 'control-port') check();
      });
      unsubscribe = tor.onLogLine(check);
      timer = setTimeout(
        () => reject(new TorStartTimeoutError(`tor did not open its control port within ${options.startTimeoutMs ?? 30_000} ms`)),
        options.startTimeoutMs ?? 30_000,
      );
      tor.exited.then((status) => reject(tor.exitError(status)));
      check();
    });
    return { process: tor, controlPort };
  } catch (err) {
    await tor.stop(2000);
    throw err;
  } finally {
    watcher?.close();
    clearTimeout(timer);
    unsubscribe();
  }
}
