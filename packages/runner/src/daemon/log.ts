import type { LogLevel } from '../config/config.js';

/** The daemon's log: one JSON object per line (`{"level","time","msg",…}`), on stderr. */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export function jsonLogger(write: (line: string) => void, level: LogLevel = 'info'): Logger {
  const min = RANK[level];
  const emit = (lvl: Exclude<LogLevel, 'silent'>) => (msg: string, fields?: Record<string, unknown>) => {
    if (RANK[lvl] < min) return;
    let line: string;
    try {
      line = JSON.stringify({ level: lvl, time: new Date().toISOString(), msg, ...fields });
    } catch {
      line = JSON.stringify({ level: lvl, time: new Date().toISOString(), msg });
    }
    write(`${line}\n`);
  };
  return { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') };
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** A pino-compatible logger, as `@greentic/telemetry` creates (`startRunnerTelemetry().logger`). */
export interface PinoLike {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/**
 * pino options that make the platform's logger write the daemon's line format: `{"level":"info","time":"<ISO>",
 * "msg":…, …fields}` (level names, ISO times, no pid/hostname) — so one JSON line format goes to stderr, with the
 * platform's PII redaction and `trace_id`/`span_id` of the active span.
 */
export const DAEMON_LOG_FORMAT = {
  base: null,
  timestamp: () => `,"time":"${new Date().toISOString()}"`,
  formatters: { level: (label: string) => ({ level: label }) },
};

/** The daemon's {@link Logger} over a pino logger (the platform's: redacting, with trace ids). */
export function loggerOverPino(pino: PinoLike): Logger {
  return {
    debug: (msg, fields) => pino.debug(fields ?? {}, msg),
    info: (msg, fields) => pino.info(fields ?? {}, msg),
    warn: (msg, fields) => pino.warn(fields ?? {}, msg),
    error: (msg, fields) => pino.error(fields ?? {}, msg),
  };
}

const PINO_LEVELS: Record<number, Exclude<LogLevel, 'silent'>> = {
  10: 'debug',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'error',
};

/**
 * A pino destination that hands each line to a daemon {@link Logger}: the platform's own lines (component logs,
 * policy decisions, secrets audit, OAuth audit) land in the log an embedder gave the daemon.
 */
export function pinoLinesTo(log: Logger): { write(line: string): void } {
  return {
    write(line: string) {
      let o: Record<string, unknown>;
      try {
        o = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      const { level, time: _time, msg, pid: _pid, hostname: _host, name: _name, ...fields } = o;
      const lvl =
        typeof level === 'number'
          ? (PINO_LEVELS[level] ?? 'info')
          : level === 'fatal'
            ? 'error'
            : level === 'trace'
              ? 'debug'
              : (level as Exclude<LogLevel, 'silent'>);
      (log[lvl] ?? log.info)(typeof msg === 'string' ? msg : '', fields);
    },
  };
}
