// Keeps one tor running for the firmware: checks the clock, launches tor, authenticates and takes
// ownership over one control connection, turns bootstrap events into a status stream, and when
// tor exits restarts it with exponential backoff, then re-runs the "ready" hooks (e.g. the onion
// service re-publishing itself). stop() ends it for good, SIGTERM escalating to SIGKILL.
import { buildTime as firmwareBuildTime } from '../build-info.js';
import { createLog } from '../log.js';
import { authenticate } from './control-auth.js';
import { ControlConnection } from './control-connection.js';
import { waitForPlausibleClock } from './clock-check.js';
import { TorError, TorPortInUseError } from './errors.js';
import { defaultBackoff, nextRestart, type BackoffPolicy, type BackoffState } from './restart-backoff.js';
import { launchTor, type TorLaunchOptions, type TorProcess } from './tor-process.js';
import { statusAfterClientEvent, statusFromBootstrapPhase, TorStatusStream } from './tor-status.js';

const log = createLog('tor:supervisor');

export interface TorSupervisorOptions extends TorLaunchOptions {
  backoff?: BackoffPolicy;
  /** Tor is not started while the clock reads earlier than this (default: the firmware build time). */
  buildTime?: Date;
  now?: () => Date;
  clockRecheckMs?: number;
  /** Grace between SIGTERM and SIGKILL when stopping. */
  stopGraceMs?: number;
}

/** Runs after every (re)start with the new control connection; failures are logged, not fatal. */
export type ReadyHook = (control: ControlConnection) => Promise<void>;

interface Run {
  process: TorProcess;
  control: ControlConnection;
  startedAt: number;
}

export class TorSupervisor {
  readonly status = new TorStatusStream();
  private run: Run | undefined;
  private readonly hooks = new Set<ReadyHook>();
  private backoffState: BackoffState = { failures: 0 };
  private restartTimer: NodeJS.Timeout | undefined;
  private stopping = false;
  private readonly abort = new AbortController();
  private pinnedSocksPort: number | 'auto' | 0;
  private learnedSocksPort: number | undefined;
  private readyWaiters: Array<() => void> = [];
  private launching: Promise<void> | undefined;
  private started = false;

  constructor(private readonly options: TorSupervisorOptions) {
    this.pinnedSocksPort = options.socksPort ?? 'auto';
  }

  /** First start. Rejects with a typed error (missing binary, port in use, ...) and then does not retry. */
  async start(): Promise<void> {
    if (this.started) throw new TorError('this tor supervisor was already started; make a new one');
    this.started = true;
    try {
      await this.launchOnce();
    } catch (err) {
      this.status.set({ state: 'error', error: err as Error });
      throw err;
    }
  }

  /** The current control connection. Throws while tor is between runs. */
  get control(): ControlConnection {
    if (!this.run || this.run.control.closed) throw new TorError('tor is not running (it is restarting or stopped)');
    return this.run.control;
  }

  /**
   * The SOCKS port on 127.0.0.1; stays the same across restarts unless another program takes it while
   * tor is down (then tor restarts on a new one: read it again per connection). Undefined with SocksPort
   * 0 or DisableNetwork.
   */
  get socksPort(): number | undefined {
    return this.learnedSocksPort;
  }

  get pid(): number | undefined {
    return this.run?.process.pid;
  }

  get dataDir(): string {
    return this.options.dataDir;
  }

  /**
   * Registers a hook run after every restart, and now too (if tor is up) unless `now` is false —
   * callers that just did the work themselves pass false: a second ADD_ONION of the same key on
   * the same tor trips a (non-fatal) assertion inside tor 0.4.9.
   */
  async onReady(hook: ReadyHook, now = true): Promise<() => void> {
    this.hooks.add(hook);
    if (now && this.run && !this.run.control.closed) await this.runHook(hook, this.run.control);
    return () => this.hooks.delete(hook);
  }

  /** Resolves after the next successful restart (used by tests and by callers that lost a connection). */
  nextReady(): Promise<void> {
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.abort.abort();
    clearTimeout(this.restartTimer);
    await this.launching;
    const run = this.run;
    this.run = undefined;
    if (!run) return;
    // Closing the owning connection makes tor exit by itself; the signal is the backstop.
    await run.control.close().catch(() => {});
    await run.process.stop(this.options.stopGraceMs ?? 5000);
  }

  private async launchOnce(): Promise<void> {
    await waitForPlausibleClock({
      buildTime: this.options.buildTime ?? firmwareBuildTime,
      now: this.options.now,
      recheckMs: this.options.clockRecheckMs,
      signal: this.abort.signal,
      onClockWrong: (now, buildTime) => this.status.set({ state: 'clockWrong', now, buildTime }),
    });
    this.status.set({ state: 'starting' });
    const { process, controlPort } = await launchTor({ ...this.options, socksPort: this.pinnedSocksPort });
    let control: ControlConnection | undefined;
    try {
      control = await ControlConnection.connect({ port: controlPort });
      await authenticate(control);
      await control.command('TAKEOWNERSHIP');
      // From here tor dies with this connection, so the config override is no longer needed.
      await control.command('RESETCONF __OwningControllerProcess');
      control.on('STATUS_CLIENT', (e) => this.status.set(statusAfterClientEvent(this.status.current, e.text)));
      await control.subscribe('STATUS_CLIENT');
      const info = await control.getInfo('status/bootstrap-phase', 'net/listeners/socks');
      this.status.set(statusFromBootstrapPhase(info.get('status/bootstrap-phase') ?? ''));
      const socks = /:(\d+)"?$/.exec(info.get('net/listeners/socks') ?? '');
      if (socks) {
        this.learnedSocksPort = Number(socks[1]);
        this.pinnedSocksPort = this.learnedSocksPort; // keep the port callers already hold
      }
    } catch (err) {
      await control?.close().catch(() => {});
      const status = await Promise.race([process.exited, delay(1000).then(() => undefined)]);
      await process.stop(this.options.stopGraceMs ?? 5000);
      // If tor died meanwhile, its own reason beats "connection closed".
      throw status ? process.exitError(status) : err;
    }
    if (this.stopping) {
      // stop() ran while this restart was launching: it could not see this process.
      await control.close().catch(() => {});
      await process.stop(this.options.stopGraceMs ?? 5000);
      return;
    }
    const run: Run = { process, control, startedAt: Date.now() };
    this.run = run;
    void process.exited.then((status) => this.onExit(run, process.exitError(status)));
    for (const hook of this.hooks) await this.runHook(hook, control);
    for (const resolve of this.readyWaiters.splice(0)) resolve();
  }

  private socksPortWasTaken(err: Error): boolean {
    const chosenByCaller = this.options.socksPort !== undefined && this.options.socksPort !== 'auto';
    return err instanceof TorPortInUseError && !chosenByCaller && this.learnedSocksPort !== undefined && err.address.endsWith(`:${this.learnedSocksPort}`);
  }

  private async runHook(hook: ReadyHook, control: ControlConnection): Promise<void> {
    try {
      await hook(control);
    } catch (err) {
      log.error('ready hook failed', { err });
    }
  }

  private onExit(run: Run, error: Error): void {
    if (this.stopping || this.run !== run) return;
    this.run = undefined;
    void run.control.close().catch(() => {});
    this.scheduleRestart(Date.now() - run.startedAt, error);
  }

  private scheduleRestart(lastRunMs: number, error: Error): void {
    const next = nextRestart(this.options.backoff ?? defaultBackoff, this.backoffState, lastRunMs);
    this.backoffState = next.state;
    log.warn('tor stopped; restarting', { err: error, delayMs: next.delayMs });
    this.status.set({ state: 'error', error, restartInMs: next.delayMs });
    this.restartTimer = setTimeout(() => {
      const started = Date.now();
      this.launching = this.launchOnce().catch((err: Error) => {
        if (this.stopping) return;
        if (this.socksPortWasTaken(err)) {
          // Pinned, the learned port would fail every restart from now on. A port the caller chose
          // stays pinned: that is their decision, and the error says what is wrong.
          log.warn('our SOCKS port was taken while tor was down; restarting on a new one', { port: this.learnedSocksPort });
          this.pinnedSocksPort = 'auto';
        }
        this.scheduleRestart(Date.now() - started, err);
      });
    }, next.delayMs);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
