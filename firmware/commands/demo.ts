// torlk demo [--once] [--json] [--interactive] [--out DIR] [--phrase TEXT]: two radios talking through
// a private Tor network on this machine (what `npm start` runs). See firmware/app/demo.ts.
import { parseArgs } from 'node:util';
import { DemoAbortedError, runDemo } from '../app/demo.js';

const help = `Usage: torlk demo [--once] [--json] [--interactive] [--out DIR] [--phrase TEXT]

Starts a private Tor network on 127.0.0.1, provisions two radios (alice and bob) as each other's
contacts, and shows them live while alice talks to bob. Bob's audio is written to DIR as
received.ogg and received.wav (default: a new directory under the temp dir).

  --once         one exchange, then stop (default on a terminal: keep the radios up until Ctrl-C)
  --json         print exactly one JSON line with the result on stdout (the live view goes to stderr)
  --interactive  talk as alice with the laptop microphone while the space bar is held
  --phrase TEXT  what alice says (espeak-ng)
  --work DIR     keep the network's and the radios' files in DIR (logs, keys) instead of a temp dir

Ctrl-C stops everything; no tor is left running.`;

export async function run(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        once: { type: 'boolean' },
        json: { type: 'boolean' },
        interactive: { type: 'boolean' },
        out: { type: 'string' },
        work: { type: 'string' },
        phrase: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (err) {
    process.stderr.write(`torlk demo: ${(err as Error).message}\n\n${help}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${help}\n`);
    return 0;
  }
  if (values.phrase !== undefined && values.phrase.trim() === '') {
    process.stderr.write('torlk demo: --phrase needs some words\n');
    return 2;
  }
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const result = await runDemo({
      once: values.once === true || values.json === true,
      interactive: values.interactive === true,
      ...(values.out !== undefined ? { outDir: values.out } : {}),
      ...(values.work !== undefined ? { workDir: values.work } : {}),
      ...(values.phrase !== undefined ? { phrase: values.phrase } : {}),
      view: values.json ? process.stderr : process.stdout,
      signal: abort.signal,
    });
    if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
    return 0;
  } catch (err) {
    if (err instanceof DemoAbortedError) {
      process.stderr.write('torlk demo: stopped; the radios and the network are down\n');
      return 130;
    }
    process.stderr.write(`torlk demo: failed: ${(err as Error).message}\n`);
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
