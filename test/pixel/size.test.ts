// The byte budget of dist/d.js (package.json crumb.dJsBudgetGzip): every landing page pays it.
// Fails when the gzipped script passes the budget; prints the minified, gzip and brotli sizes.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';

const file = fileURLToPath(new URL('../../dist/d.js', import.meta.url));
const pkg = JSON.parse(readFileSync(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8'));
const budget: number = pkg.crumb.dJsBudgetGzip;

/** `gzip -9 -c dist/d.js | wc -c`, the budget's own definition, where a gzip program exists.
 * (It stores the file name in its header, 5 bytes that an HTTP gzip encoding does not send.) */
function gzipProgram(): number | undefined {
  try {
    return execFileSync('gzip', ['-9', '-c', file]).length;
  } catch {
    return undefined;
  }
}

describe('dist/d.js', () => {
  it(`fits the budget of ${budget} bytes gzipped`, () => {
    const code = readFileSync(file);
    const gzip = gzipSync(code, { level: 9 }).length;
    const brotli = brotliCompressSync(code, { params: { [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY } }).length;
    const cli = gzipProgram();
    console.log(
      `d.js: ${code.length} bytes minified, ${gzip} gzip -9 (node:zlib)` +
        (cli === undefined ? '' : `, ${cli} gzip -9 -c dist/d.js`) +
        `, ${brotli} brotli 11; budget ${budget} gzip`,
    );
    expect(gzip).toBeLessThanOrEqual(budget);
    if (cli !== undefined) expect(cli).toBeLessThanOrEqual(budget);
  });
});
