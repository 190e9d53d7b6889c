// Diagnosis for the intermittent ~40 ms stall on the private network (scripts/testnet/README.md,
// "Round trips and the 40 ms stall"): one network, an echo onion (onion-echo.ts), a client tor, and
// many round trips on several circuits (each group through a client tor of its own, so a fresh
// rendezvous circuit on its own path), each probe pattern with and without TCP_NODELAY on our SOCKS socket.
// Not a .bench.ts: run by hand, e.g.
//   npx esbuild --bundle --platform=node --format=esm --packages=external test/bench/onion-rtt-stall.ts --outfile=node_modules/.cache/stall.mjs && node node_modules/.cache/stall.mjs
// Env: STALL_GROUPS (circuits, default 6), STALL_N (probes per pattern per circuit, default 20),
// STALL_RELAYS (the network's non-authority relays, default the harness's), STALL_PAUSE_MS (pause
// after each client starts, to attach strace/ss to the printed pids), STALL_HUNT_MS (keep the
// first stalled circuit probed that long, then stop). Under `unshare -rn` with the loopback
// routes' `quickack 1` (README) the same run shows what delayed ACKs contribute.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startTestnet, type Testnet } from '../../scripts/testnet/network.js';
import { waitBootstrapped, waitReachable } from '../../scripts/testnet/readiness.js';
import { socksConnect } from '../../firmware/tor/socks5-client.js';
import { startOnionEcho, timeFirstByte, type OnionEcho } from './onion-echo.js';
import { median } from './median.js';

const say = (msg: string) => process.stderr.write(`${msg}\n`);

async function main(): Promise<void> {
  const groups = Number(process.env.STALL_GROUPS ?? 6);
  const n = Number(process.env.STALL_N ?? 20);
  const dir = mkdtempSync(join(tmpdir(), 'torlk-stall-'));
  let net: Testnet | undefined;
  let echo: OnionEcho | undefined;
  try {
    const relays = process.env.STALL_RELAYS ? { relays: Number(process.env.STALL_RELAYS) } : {};
    net = await startTestnet({ dir: join(dir, 'net'), ...relays });
    echo = await startOnionEcho(net);
    const all: Record<string, number[]> = {};
    for (let g = 0; g < groups; g++) {
      const client = await net.startClient();
      await waitBootstrapped(client);
      (await waitReachable(client, echo.onion)).socket.destroy();
      say(`pids: client ${client.pid}, service ${echo.service.node.pid}, network ${net.pids().join(' ')}`);
      if (process.env.STALL_PAUSE_MS) await sleep(Number(process.env.STALL_PAUSE_MS));
      const open = (_g: number) => socksConnect({ socksPort: client.ports.socks!, host: echo!.onion, port: echo!.port, timeoutMs: 30_000 });
      const rows: Record<string, number[]> = { 'idle nagle': [], 'idle nodelay': [], 'fresh nagle': [], 'fresh nodelay': [] };
      for (let i = 0; i < n; i++) {
        for (const noDelay of [false, true]) {
          const idle = await open(g);
          idle.setNoDelay(noDelay);
          await sleep(100);
          rows[`idle ${noDelay ? 'nodelay' : 'nagle'}`]!.push(await timeFirstByte(idle, 'x'.repeat(60)));
          idle.destroy();
          const fresh = await open(g);
          fresh.setNoDelay(noDelay);
          rows[`fresh ${noDelay ? 'nodelay' : 'nagle'}`]!.push(await timeFirstByte(fresh, 'x'.repeat(60)));
          fresh.destroy();
        }
      }
      for (const [k, v] of Object.entries(rows)) {
        (all[k] ??= []).push(...v);
        const stalls = v.filter((x) => x > 35).length;
        say(`circuit ${g} ${k}: median ${median(v).toFixed(1)} ms, >35 ms ${stalls}/${v.length}: ${v.map((x) => x.toFixed(0)).join(' ')}`);
      }
      // Hunting: keep a stalled circuit alive, probing every 300 ms, so strace/ss can watch it.
      const hunt = Number(process.env.STALL_HUNT_MS ?? 0);
      if (hunt > 0 && median(rows['idle nodelay']!) > 35) {
        say(`HUNT: circuit ${g} stalls; client pid ${client.pid} socks ${client.ports.socks}; probing for ${hunt} ms`);
        const until = performance.now() + hunt;
        const seen: number[] = [];
        while (performance.now() < until) {
          const s = await open(g);
          s.setNoDelay(true);
          await sleep(100);
          seen.push(await timeFirstByte(s, 'y'.repeat(60)));
          s.destroy();
          await sleep(200);
        }
        say(`HUNT done: ${seen.map((x) => x.toFixed(0)).join(' ')}`);
        await client.stop();
        break;
      }
      await client.stop();
    }
    for (const [k, v] of Object.entries(all)) say(`ALL ${k}: median ${median(v).toFixed(1)} ms, >35 ms ${v.filter((x) => x > 35).length}/${v.length}`);
  } finally {
    await echo?.stop().catch((err: Error) => say(`stopping the echo: ${err.message}`));
    await net?.stop().catch((err: Error) => say(`stopping the network: ${err.message}`));
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    say(`failed: ${(err as Error).stack ?? String(err)}`);
    process.exit(1);
  },
);
