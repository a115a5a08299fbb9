// GET /d.js: the landing-page script (pixel/, built into dist/d.js). PROTOCOL.md section 3.
// The script text comes from the entry point (node.ts reads the file), so this stays
// runtime-agnostic; the ETag is a SHA-256 of the text, computed once, on first use.
import type { Context } from 'hono';

/** Landing pages embed the unversioned URL /d.js, so the cache lifetime alone bounds how long an
 * old script lives on after a deploy: browsers and CDNs use their copy for a day without asking,
 * and for up to a week more while they revalidate in the background. Revalidating is a cheap 304
 * when nothing changed (the ETag). Longer would strand fixes; shorter would cost every landing
 * page a round trip. */
export const D_JS_CACHE = 'public, max-age=86400, stale-while-revalidate=604800';

/** The handler for /d.js, serving `script` (undefined: not built, a 404 that says so). */
export function dJsHandler(script: string | undefined) {
  let etag: Promise<string> | undefined;
  return async (c: Context): Promise<Response> => {
    if (script === undefined) return c.text('d.js is not built: run `npm run build`', 404);
    etag ??= strongEtag(script);
    const headers = { ETag: await etag, 'Cache-Control': D_JS_CACHE };
    if (matchesEtag(c.req.header('if-none-match'), headers.ETag)) return c.body(null, 304, headers);
    return c.body(script, 200, { ...headers, 'Content-Type': 'application/javascript; charset=utf-8' });
  };
}

async function strongEtag(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
  return `"${Array.from(digest.subarray(0, 16), (byte) => byte.toString(16).padStart(2, '0')).join('')}"`;
}

/** If-None-Match uses the weak comparison (RFC 9110 13.1.2): `W/` is ignored; `*` matches. */
function matchesEtag(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(',').some((candidate) => {
    const tag = candidate.trim();
    return tag === '*' || tag.replace(/^W\//, '') === etag;
  });
}
