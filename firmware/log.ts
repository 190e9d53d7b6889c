// Structured, quiet-by-default logging: one JSON object per line on stderr.
// Hand-written (about 40 lines) rather than pino, because the bundle must start in well under
// 400 ms on a Pi Zero and pino's transports need worker files beside the bundle.
// Level comes from TORLK_LOG (debug|info|warn|error|silent); the default is warn.
// Lines for stderr (journald on the device) are formatted and written in batches, a few ms after
// they were logged, not in the call: the radio logs on its most timed paths (the LED at release,
// a clip stored before its receipt, a delivery), and a line costs ~0.1 ms of JSON and a write(2)
// under --jitless. Each line keeps the time it was logged; process exit writes what is pending. A
// sink set with setLogSink (tests, a terminal view) gets each line at once.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const rank: Record<LogLevel | 'silent', number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };

export type LogFields = Record<string, unknown>;
export interface Log {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(component: string): Log;
}

export type LogSink = (line: string) => void;

const stderrSink: LogSink = (line) => process.stderr.write(line + '\n');
let sink: LogSink = stderrSink;
/** How long a line for stderr may wait to be written with the next ones. */
const BATCH_MS = 20;
const pending: (() => string)[] = [];
let flushTimer: NodeJS.Timeout | undefined;

function flush(): void {
  flushTimer = undefined;
  if (pending.length === 0) return;
  const lines = pending.splice(0).map((format) => format());
  process.stderr.write(lines.join('\n') + '\n');
}
process.on('exit', flush);
let threshold = rank[(process.env.TORLK_LOG as LogLevel | undefined) ?? 'warn'] ?? rank.warn;

/** Redirects log lines (tests, the demo's terminal view). Returns the previous sink. */
export function setLogSink(next: LogSink): LogSink {
  const prev = sink;
  sink = next;
  return prev;
}

export function setLogLevel(level: LogLevel | 'silent'): void {
  threshold = rank[level];
}

function serialise(value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message, ...(value as unknown as LogFields) };
  return value;
}

export function createLog(component: string): Log {
  const format = (at: number, level: LogLevel, msg: string, fields?: LogFields) => {
    const record: LogFields = { t: new Date(at).toISOString(), level, c: component, msg };
    if (fields) for (const [k, v] of Object.entries(fields)) record[k] = serialise(v);
    return JSON.stringify(record);
  };
  const emit = (level: LogLevel, msg: string, fields?: LogFields) => {
    if (rank[level] < threshold) return;
    const at = Date.now();
    if (sink !== stderrSink) return sink(format(at, level, msg, fields));
    pending.push(() => format(at, level, msg, fields));
    flushTimer ??= setTimeout(flush, BATCH_MS).unref();
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (sub) => createLog(`${component}:${sub}`),
  };
}
