// The affiliate's browser postbacks (types 2 to 4) as p.ashx writes them into the thank-you page:
// the iframe answer (an HTML page framed by the advertiser's page) and the JavaScript answer (run
// by it). Affiliate code never runs on the tracking origin nor in the advertiser's page: iframe
// and JavaScript postbacks go into one frame sandboxed to `allow-scripts` alone, whose document
// (srcdoc) has an opaque origin. A script there cannot read the tracking domain's cookies or
// storage, cannot read an answer of the tracking domain (its requests are cross-origin, from
// `null`, which no CORS rule of ours allows), and cannot reach the page around it (no same
// origin, no top navigation, no popups, no forms). Frames nested in it inherit the sandbox.
//
// Image postbacks stay plain images: an image is only ever decoded, never run (an SVG loaded as an
// image runs no script), so it needs no sandbox.
//
// Every URL is escaped for where it lands: the attribute of an element of the sandboxed document,
// which is itself the value of the srcdoc attribute (escaped again), or a JavaScript string.
import type { BrowserPostback } from '../conversions/record.js';
import { html, jsString } from '../http.js';

/** The sandbox of the frame holding affiliate code: scripts, and nothing else. */
export const SANDBOX = 'allow-scripts';

/** The iframe answer is itself sandboxed by its header: even markup that got past the escaping
 * would run in an opaque origin, never as the tracking domain. */
export const PAGE_POLICY = `sandbox ${SANDBOX}`;

/** The document of the sandboxed frame: the affiliate's iframes and scripts, or null for none. */
function affiliateDocument(postbacks: BrowserPostback[]): string | null {
  const elements = postbacks
    .filter((p) => p.type !== 3)
    .map(({ type, url }) => (type === 2 ? `<iframe src="${html(url)}" width="1" height="1" frameborder="0"></iframe>` : `<script src="${html(url)}"></script>`));
  return elements.length ? `<!doctype html><meta charset="utf-8">${elements.join('')}` : null;
}

/** The iframe answer: images, and the sandboxed frame. */
export function browserPostbackPage(postbacks: BrowserPostback[]): string {
  const elements = postbacks.filter((p) => p.type === 3).map(({ url }) => `<img src="${html(url)}" width="1" height="1" alt="" hidden>`);
  const inner = affiliateDocument(postbacks);
  if (inner) elements.push(`<iframe sandbox="${SANDBOX}" srcdoc="${html(inner)}" width="1" height="1" hidden></iframe>`);
  return `<!doctype html>\n<html><head><meta charset="utf-8"><title></title></head><body>\n${elements.join('\n')}\n</body></html>\n`;
}

/** The JavaScript answer: adds the same to the page that loaded it, with DOM calls only (no
 * document.write, so it works loaded async); URLs and the frame's document are string literals
 * that cannot end the script. */
export function browserPostbackScript(postbacks: BrowserPostback[]): string {
  if (!postbacks.length) return '';
  const images = postbacks.filter((p) => p.type === 3).map(({ url }) => jsString(url));
  const inner = affiliateDocument(postbacks);
  const hidden = 'e.width=e.height=1;e.style.display="none";b.appendChild(e);';
  let body = 'var d=document,b=d.body||d.documentElement,e,i,p=[' + images.join(',') + '];';
  body += `for(i=0;i<p.length;i++){e=d.createElement("img");e.src=p[i];e.alt="";${hidden}}`;
  if (inner) body += `e=d.createElement("iframe");e.setAttribute("sandbox","${SANDBOX}");e.setAttribute("srcdoc",${jsString(inner)});${hidden}`;
  return `(function(){${body}})();\n`;
}
