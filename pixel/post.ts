// The AJAX lead post (PROTOCOL.md section 4): JSON to /d.ashx, the JSON answer to a callback.
import { base, KEY } from './config.js';
import { reqid } from './storage.js';

/** The server's JSON answer, or the error the script makes up when there is none. */
export interface Answer {
  code: number;
  msg: string;
  leadid?: string;
  price?: number;
  redirect?: string;
  errors?: string[];
  /** Per field: why it failed. */
  fields?: Record<string, string>;
}

/** A form element, or the fields as an object. */
export type Fields = HTMLFormElement | Record<string, unknown>;

export const post = (data: Fields, callback?: (answer: Answer) => void) => {
  const fields: Record<string, unknown> = {};
  (data as HTMLFormElement).tagName
    ? new FormData(data as HTMLFormElement).forEach((value, name) => (fields[name] = value))
    : Object.assign(fields, data);
  // The reqid, unless the page gave its own; empty while unknown (the server reads an empty
  // ckm_request_id as none: a browser post, credited through the tracking-domain cookie).
  fields[KEY] = fields[KEY] || reqid;
  // A string body goes as `text/plain;charset=UTF-8`, the Fetch standard's Content-Type for a
  // string (so it is not spelled out): a CORS simple request, no preflight, which lets keepalive
  // deliver it when the page navigates away right after. The server reads a text/plain body
  // that starts with `{` as JSON.
  fetch(base + '/d.ashx', { method: 'POST', body: JSON.stringify(fields), keepalive: true, credentials: 'include' })
    .then((response) => response.json())
    .catch((): Answer => ({ code: 1, msg: 'error', errors: ['Network Error'] }))
    .then(callback);
};
