// The Node entry's log: pino, one JSON object a line on stdout (written synchronously: a line is
// out before the next request, and nothing logged is lost to a kill), or the same records as
// readable lines for a person at a terminal (`npm start`).
import { hostname } from 'node:os';
import { pino, stdTimeFunctions } from 'pino';
import { isLevel, LEVELS, type Level, type Log } from './logging.js';

export type LogFormat = 'json' | 'pretty';

export interface NodeLogOptions {
  level: Level;
  format: LogFormat;
  /** Names this process in every line (default: host name and process id). */
  instance?: string;
  /** Where the lines go (default: stdout). */
  out?: NodeJS.WritableStream & { isTTY?: boolean };
}

export function defaultInstance(): string {
  return `${hostname()}:${process.pid}`;
}

export function nodeLog(options: NodeLogOptions): Log {
  const out = options.out ?? process.stdout;
  const destination = options.format === 'pretty' ? prettyStream(out) : options.out ? out : pino.destination({ dest: 1, sync: true });
  return pino(
    {
      level: options.level,
      base: { instance: options.instance ?? defaultInstance() },
      timestamp: stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      // Records carry errors already serialized (and scrubbed) by errorRecord().
      serializers: { err: (err: unknown) => err },
    },
    destination,
  );
}

const COLORS: Record<string, string> = { trace: '90', debug: '90', info: '36', warn: '33', error: '31', fatal: '31' };

/** Reads pino's lines back and writes them for people: time, level, the request or the message,
 * other fields as key=value, an error's stack indented under it. */
export function prettyStream(out: NodeJS.WritableStream & { isTTY?: boolean }): { write(line: string): void } {
  const color = out.isTTY === true;
  return {
    write(line) {
      let record: Record<string, unknown>;
      try {
        record = JSON.parse(line);
      } catch {
        out.write(line);
        return;
      }
      out.write(prettyLine(record, color));
    },
  };
}

export function prettyLine(record: Record<string, unknown>, color = false): string {
  const { level, time, msg, instance: _instance, err, ...rest } = record;
  const name = String(level);
  const label = name.toUpperCase().padEnd(5);
  const shownLevel = color ? `\x1b[${COLORS[name] ?? '0'}m${label}\x1b[0m` : label;
  let head = String(msg ?? '');
  if (msg === 'request') {
    const { method, url, status, ms, route: _route, ...others } = rest;
    head = `${method} ${url} ${status} ${ms} ms`;
    for (const key of Object.keys(rest)) if (!(key in others)) delete rest[key];
  }
  const fields = Object.entries(rest)
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(' ');
  const error = err as { message?: string; stack?: string } | undefined;
  const stack = error?.stack ? `\n    ${error.stack.split('\n').join('\n    ')}` : error?.message ? ` (${error.message})` : '';
  return `${String(time ?? '').slice(11, 23)} ${shownLevel} ${head}${fields ? ` ${fields}` : ''}${stack}\n`;
}

/** The log settings from the command line, else the environment: `--log-level` (CRUMB_LOG_LEVEL,
 * default info) and `--log-format` (CRUMB_LOG_FORMAT; default pretty on a terminal, JSON
 * otherwise). Throws an Error naming the bad value. */
export function logSettings(level = process.env.CRUMB_LOG_LEVEL, format = process.env.CRUMB_LOG_FORMAT, tty = process.stdout.isTTY === true) {
  const chosen = level || 'info';
  if (!isLevel(chosen)) throw new Error(`--log-level must be one of ${LEVELS.join(', ')}, not ${chosen}`);
  const shape = format || (tty ? 'pretty' : 'json');
  if (shape !== 'json' && shape !== 'pretty') throw new Error(`--log-format must be json or pretty, not ${shape}`);
  return { level: chosen, format: shape as LogFormat };
}
