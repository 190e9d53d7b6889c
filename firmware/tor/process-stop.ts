// Stops a child process by its PID: SIGTERM, then SIGKILL after a grace period. Tor sometimes
// logs "exiting cleanly" and then hangs for minutes (seen on this machine), so escalation is not
// optional. Reusable for every process the firmware or the testnet starts.
import type { ChildProcess } from 'node:child_process';

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Resolves when the child has exited (immediately if it already has). */
export function waitForExit(child: ChildProcess): Promise<ExitStatus> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

export async function stopProcess(child: ChildProcess, graceMs = 5000): Promise<ExitStatus> {
  const exited = waitForExit(child);
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return exited;
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const escalated = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), graceMs);
  });
  const first = await Promise.race([exited, escalated]);
  clearTimeout(timer);
  if (first !== 'timeout') return first;
  child.kill('SIGKILL');
  return exited;
}
