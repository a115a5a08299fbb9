// The Node entry's log (pino, JSON lines) written to memory, so that tests read exactly what an
// operator's log collector would receive.
import { Writable } from 'node:stream';
import type { Level } from '../../server/ops/logging.js';
import { nodeLog } from '../../server/ops/node-log.js';

export const INSTANCE = 'test-instance';

export function memoryLog(level: Level = 'trace') {
  const lines: string[] = [];
  const out = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line) lines.push(line);
      done();
    },
  });
  return {
    log: nodeLog({ level, format: 'json', out, instance: INSTANCE }),
    lines,
    /** Every line, parsed (each must be one JSON object). */
    records: () => lines.map((line) => JSON.parse(line) as Record<string, any>),
    /** The request lines. */
    requests: () => lines.map((line) => JSON.parse(line) as Record<string, any>).filter((r) => r.msg === 'request'),
    text: () => lines.join('\n'),
  };
}
