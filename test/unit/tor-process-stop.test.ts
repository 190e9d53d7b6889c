// stopProcess against real child processes: a polite one, and one that ignores SIGTERM the way a
// hung tor did on this machine ("exiting cleanly", then alive for 13 minutes).
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { stopProcess, waitForExit } from '../../firmware/tor/process-stop.js';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('stopProcess', () => {
  it('stops a process that honours SIGTERM without escalating', async () => {
    const child = spawn('sleep', ['60']);
    await new Promise((r) => child.once('spawn', r));
    expect(await stopProcess(child, 5000)).toEqual({ code: null, signal: 'SIGTERM' });
    expect(alive(child.pid!)).toBe(false);
  });

  it('escalates to SIGKILL when SIGTERM is ignored', async () => {
    const child = spawn('sh', ['-c', 'trap "" TERM; echo ready; while :; do sleep 0.05; done']);
    await new Promise((r) => child.stdout.once('data', r));
    const t0 = performance.now();
    expect(await stopProcess(child, 300)).toEqual({ code: null, signal: 'SIGKILL' });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(290);
    expect(alive(child.pid!)).toBe(false);
  });

  it('returns the exit status of a process that already ended', async () => {
    const child = spawn('sh', ['-c', 'exit 3']);
    await waitForExit(child);
    expect(await stopProcess(child)).toEqual({ code: 3, signal: null });
  });
});
