// The firmware's structured log lines while some code runs, parsed, for tests that check what a
// user or an operator would read.
import { setLogLevel, setLogSink, type LogLevel } from '../../firmware/log.js';

/** Log lines at `level` and above while `run` runs; the level goes back to TORLK_LOG's (or warn) after. */
export async function captureLog<T>(level: LogLevel, run: () => Promise<T>): Promise<{ result: T; lines: Record<string, unknown>[] }> {
  const lines: Record<string, unknown>[] = [];
  const previous = setLogSink((line) => lines.push(JSON.parse(line) as Record<string, unknown>));
  setLogLevel(level);
  try {
    return { result: await run(), lines };
  } finally {
    setLogSink(previous);
    setLogLevel((process.env.TORLK_LOG as LogLevel | undefined) ?? 'warn');
  }
}
