// Which sockets a set of processes listens on, read from `ss` (iproute2), so tests can prove that
// nothing of the network is reachable from outside loopback and that nothing is left after stop().
import { execFile } from 'node:child_process';

export interface ListeningSocket {
  readonly protocol: 'tcp' | 'udp';
  /** Local address as ss prints it without brackets: "127.0.0.1", "0.0.0.0", "::", "*". */
  readonly address: string;
  readonly port: number;
  readonly pids: readonly number[];
}

/** `ss` is missing or failed. */
export class ListenerQueryError extends Error {
  override readonly name = 'ListenerQueryError';
}

/** Parses `ss -ltunpH` output. Lines that are not listeners are ignored. */
export function parseSsListeners(text: string): ListeningSocket[] {
  const out: ListeningSocket[] = [];
  for (const line of text.split('\n')) {
    const fields = line.trim().split(/\s+/);
    const [netid, , , , local] = fields;
    if ((netid !== 'tcp' && netid !== 'udp') || !local) continue;
    const m = /^\[?(.*?)\]?(?:%\S+)?:(\d+|\*)$/.exec(local);
    if (!m?.[1] || !m[2] || m[2] === '*') continue;
    const pids = [...line.matchAll(/pid=(\d+)/g)].map((p) => Number(p[1]));
    out.push({ protocol: netid, address: m[1].replace(/%.*$/, ''), port: Number(m[2]), pids });
  }
  return out;
}

/** Every TCP/UDP listener on this host with the PIDs holding it. */
export function listeningSockets(): Promise<ListeningSocket[]> {
  return new Promise((resolve, reject) => {
    execFile('ss', ['-ltunpH'], (err, stdout, stderr) => {
      if (err) reject(new ListenerQueryError(`ss -ltunpH failed (install iproute2): ${stderr.trim() || err.message}`));
      else resolve(parseSsListeners(stdout));
    });
  });
}

/** The listeners held by any of `pids`. */
export async function listenersOf(pids: Iterable<number>): Promise<ListeningSocket[]> {
  const wanted = new Set(pids);
  return (await listeningSockets()).filter((s) => s.pids.some((p) => wanted.has(p)));
}

export function isLoopback(address: string): boolean {
  return address === '::1' || /^127\./.test(address);
}
