// Last-resort cleanup when the harness dies without calling stop(): an aborted test run (Ctrl-C,
// vitest killing a worker, an uncaught exception) must leave no tor and no temp dir behind.
// Tor's __OwningControllerProcess would also end them, but only some seconds later.
import { rmSync } from 'node:fs';

const livePids = new Set<number>();
const tempDirs = new Set<string>();
let installed = false;

const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

function killAllNow(): void {
  for (const pid of livePids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  livePids.clear();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  // A host that handles the signal itself (the run script stops the network cleanly) decides when
  // to exit; the 'exit' hook still catches whatever it leaves.
  if (process.listenerCount(signal) > 1) return;
  killAllNow();
  uninstall();
  // Let the signal do what it would have done had we not been listening.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', killAllNow);
  for (const s of signals) process.on(s, onSignal);
}

function uninstall(): void {
  if (!installed) return;
  installed = false;
  process.off('exit', killAllNow);
  for (const s of signals) process.off(s, onSignal);
}

function maybeUninstall(): void {
  // Only hold the signal handlers while there is something to clean, so the harness does not change
  // how the host process reacts to Ctrl-C once the network is stopped.
  if (livePids.size === 0 && tempDirs.size === 0) uninstall();
}

export function trackPid(pid: number): void {
  livePids.add(pid);
  install();
}

export function untrackPid(pid: number): void {
  livePids.delete(pid);
  maybeUninstall();
}

export function trackTempDir(dir: string): void {
  tempDirs.add(dir);
  install();
}

export function untrackTempDir(dir: string): void {
  tempDirs.delete(dir);
  maybeUninstall();
}

/** PIDs and temp dirs the hook would clean up now (for tests). */
export function tracked(): { pids: number[]; dirs: string[] } {
  return { pids: [...livePids], dirs: [...tempDirs] };
}
