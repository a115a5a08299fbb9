// d.js wired: find the reqid, keep it, fill the forms, answer the page's commands.
// The ESM build's entry (for sites that bundle); dist/d.js runs it from tag.ts.
import { config, configure, KEY, type Config } from './config.js';
import { convert, type Conversion } from './convert.js';
import { watch } from './forms.js';
import type { Answer, Fields } from './post.js';
import { install, page, type Ckm } from './queue.js';
import { readUrl } from './reqid.js';
import { keepReqid, load } from './storage.js';

export type { Answer, Ckm, Config, Conversion, Fields };

/** Runs the configured script (tag.ts configures it from the script tag).
 * @internal */
export const run = (): Ckm => {
  load();
  // The reqid of the landing URL, else the JS click pixel's global (when it ran first).
  keepReqid(readUrl() || page[KEY]);
  watch();
  const ckm = install();
  if (config.offer_id) convert(config);
  return ckm;
};

/** Starts the script: replays the page's queued calls, installs `window.ckm`, and returns it.
 * `options.base` is the Crumb server's origin; with `offer_id`, fires that conversion (once per
 * order). */
export const start = (options: Config & { base: string }): Ckm => {
  configure({ dataset: options, src: options.base });
  return run();
};
