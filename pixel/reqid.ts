// The request id: what one looks like, and where the landing URL carries it.
import { config, KEY } from './config.js';

/** A reqid as the server issues it (`[A-Za-z0-9_-]`, at most 64), surrounding double quotes
 * removed; undefined for anything else, so that junk never reaches a form or storage.
 * ([value] turns undefined and null into '' once made text.) */
export const clean = (value: unknown): string | undefined =>
  ((/^"?([\w-]{1,64})"?$/.exec([value] as unknown as string) || 0) as string[])[1];

/** The reqid in the landing URL (after readUrl()). A reqid in the URL is a new click: it replaces
 * a stored one and outranks the JS click pixel's. */
export let url: string | undefined;

/** The first of these parameters, then the configured ones (data-params, separated by spaces),
 * that holds a reqid. (Without data-params, a parameter named `undefined` is read too: harmless,
 * and cheaper than a default.) */
export const readUrl = () =>
  (url = `reqid ${KEY} request_id req_id ${config.params}`
    .split(' ')
    .reduce<string | undefined>((found, name) => found || clean(new URLSearchParams(location.search).get(name)), ''));
