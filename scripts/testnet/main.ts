// `scripts/testnet/run`: the private network by hand, for developers and the demo.
//   start  start the network, print the torrc lines a tor needs to join it, stay up until Ctrl-C
//   check  start it, serve an HTTP page as an onion, fetch it through a client, print the timings, stop
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startTestnet, type Testnet } from './network.js';
import { measureOnionReach } from './onion-check.js';

const usage = `usage: scripts/testnet/run start [--dir DIR] [--client] [--authorities N] [--relays N]
       scripts/testnet/run check [--dir DIR] [--authorities N] [--relays N]

start  runs 3 authorities + 3 relays on 127.0.0.1 until Ctrl-C. Prints the torrc lines a tor adds to
       join (also written to DIR/client-torrc). --client also starts a client tor and prints its
       SocksPort once it has bootstrapped. --dir keeps the DataDirectories there after stopping.
check  measures start -> onion reachable once and exits 0 if the onion answered (--dir keeps the
       nodes' notice logs for a look at a slow run).`;

export async function run(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        dir: { type: 'string' },
        client: { type: 'boolean', default: false },
        authorities: { type: 'string', default: '3' },
        relays: { type: 'string', default: '3' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (e) {
    process.stderr.write(`testnet: ${(e as Error).message}\n${usage}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  const command = positionals[0];
  if (values.help || command === undefined) {
    process.stdout.write(`${usage}\n`);
    return values.help ? 0 : 2;
  }
  const counts = { authorities: Number(values.authorities), relays: Number(values.relays) };
  if (command === 'check') {
    const started = performance.now();
    const r = await measureOnionReach({ ...counts, ...(values.dir ? { dir: values.dir } : {}) });
    process.stderr.write(`testnet: HTTP ${r.status} from ${r.onion}\n`);
    process.stdout.write(`${JSON.stringify({ ...r, totalSeconds: (performance.now() - started) / 1000 })}\n`);
    return r.status === 200 ? 0 : 1;
  }
  if (command !== 'start' || positionals.length > 1) {
    process.stderr.write(`testnet: unknown command "${positionals.join(' ')}"\n${usage}\n`);
    return 2;
  }
  const net = await startTestnet({ ...counts, ...(values.dir ? { dir: values.dir } : {}) });
  const stopped = new Promise<void>((resolve) => {
    let stopping = false;
    const onSignal = () => {
      // Ctrl-C reaches node both directly and forwarded by the run script as SIGTERM.
      if (stopping) return;
      stopping = true;
      process.stderr.write('testnet: stopping\n');
      net.stop().then(resolve, resolve);
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
  const lines = net.torrcLinesForClient();
  await writeFile(join(net.dir, 'client-torrc'), lines.join('\n') + '\n');
  process.stdout.write(lines.join('\n') + '\n');
  process.stderr.write(`testnet: up in ${net.dir} (pids ${net.pids().join(' ')}); lines also in ${join(net.dir, 'client-torrc')}; Ctrl-C stops\n`);
  if (values.client) {
    try {
      await reportClient(net);
    } catch (e) {
      await net.stop();
      throw e;
    }
  }
  await stopped;
  return 0;
}

async function reportClient(net: Testnet): Promise<void> {
  const { waitBootstrapped } = await import('./readiness.js');
  const client = await net.startClient();
  await waitBootstrapped(client);
  process.stdout.write(`# client tor bootstrapped: SocksPort 127.0.0.1:${client.ports.socks}\n`);
}

run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`testnet: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
