// What the page told the script: the data attributes of its <script> tag (tag.ts), or what a
// bundling site passes to start() (index.ts). Set once, before anything else runs.
import type { Conversion } from './convert.js';
import { attempt } from './safe.js';

/** The lead field, the JS click pixel's global, a landing URL parameter and the storage key: one name. */
export const KEY = 'ckm_request_id';

/** `document`, named once. */
export const doc = document;

/** The script tag's data attributes, under the same names (without `data-`). */
export interface Config extends Conversion {
  /** The Crumb server's origin, e.g. `https://track.example.com` (default: where d.js came from). */
  base?: string;
  /** More landing URL parameters that carry the reqid, separated by spaces. */
  params?: string;
  /** Cookie domain, e.g. `example.com`, so that `www.example.com` and `example.com` share the reqid. */
  domain?: string;
  /** How long the reqid is kept, in days (default 30, an offer's default cookie days). */
  days?: string | number;
}

export let config: Config;
/** The server's origin (no trailing slash, whatever `base` ended with); `x:` when there is none
 * (d.js pasted inline without data-base): a scheme no browser fetches, so a post fails with an
 * error answer and a pixel loads nothing, without a request to the page's own site. */
export let base: string;

/** `script`: the <script> tag of d.js (the one running), or what stands for it (`src` is only
 * read without `dataset.base`). */
export const configure = (script: { dataset: Config; src: string } = doc.currentScript as HTMLScriptElement) => {
  config = script.dataset;
  base = attempt(() => new URL(config.base || script.src).origin) || 'x:';
};
