// Structured, quiet-by-default logging: one JSON object per line on stderr.
// Hand-written (about 40 lines) rather than pino, because the bundle must start in well under
// 400 ms on a Pi Zero and pino's transports need worker files beside the bundle.
// Level comes from TORLK_LOG (debug|info|warn|error|silent); the default is warn.

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

let sink: LogSink = (line) => process.stderr.write(line + '\n');
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
  const emit = (level: LogLevel, msg: string, fields?: LogFields) => {
    if (rank[level] < threshold) return;
    const record: LogFields = { t: new Date().toISOString(), level, c: component, msg };
    if (fields) for (const [k, v] of Object.entries(fields)) record[k] = serialise(v);
    sink(JSON.stringify(record));
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (sub) => createLog(`${component}:${sub}`),
  };
}
