// Tells systemd how the radio is doing when it runs as torlk.service (Type=notify, WatchdogSec=):
// READY=1 once the radio takes presses, WATCHDOG=1 every half watchdog period while the event loop
// turns, STOPPING=1 on the way out. Node cannot send on NOTIFY_SOCKET (a unix datagram socket)
// without native code, so this runs Debian's `systemd-notify` (scripts/image/watchdog.conf).
// Outside systemd (no NOTIFY_SOCKET) it does nothing.
import { execFile } from 'node:child_process';
import { createLog } from '../log.js';

const log = createLog('app:systemd');

export class SystemdNotifier {
  #timer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly env: NodeJS.ProcessEnv,
    private readonly binary: string,
  ) {}

  /** A notifier when systemd asked for notifications (NOTIFY_SOCKET set), otherwise undefined. */
  static fromEnv(env: NodeJS.ProcessEnv = process.env, binary = 'systemd-notify'): SystemdNotifier | undefined {
    return env.NOTIFY_SOCKET ? new SystemdNotifier(env, binary) : undefined;
  }

  /** Half of systemd's WatchdogSec (WATCHDOG_USEC), or undefined when no watchdog is set. */
  get watchdogIntervalMs(): number | undefined {
    const usec = Number(this.env.WATCHDOG_USEC);
    return Number.isFinite(usec) && usec > 0 ? Math.max(100, Math.floor(usec / 2000)) : undefined;
  }

  ready(status?: string): void {
    this.#send(['READY=1', ...(status ? [`STATUS=${status}`] : [])]);
    const every = this.watchdogIntervalMs;
    if (every !== undefined && this.#timer === undefined) {
      // The interval only fires while the event loop turns, which is what the watchdog should check.
      this.#timer = setInterval(() => this.#send(['WATCHDOG=1']), every);
      this.#timer.unref();
    }
  }

  stopping(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#send(['STOPPING=1']);
  }

  #send(assignments: string[]): void {
    // systemd-notify waits for PID 1 to take the message; failures only mean systemd is not listening.
    execFile(this.binary, assignments, { env: this.env, timeout: 10_000 }, (err) => {
      if (err) log.debug('systemd-notify failed', { assignments, err: err.message });
    });
  }
}
