// GET /api/docs: a readable reference of the v2 API, rendered on the server from the OpenAPI
// document (openapi.ts), so that it says what the document says. Plain HTML and one stylesheet of
// ours (/api/docs.css): no script, no font or CDN, nothing fetched from anywhere else, so it works
// on a network with no internet, under a CSP that allows only our own stylesheet.
import { html as escapeHtml } from '../http.js';

/** The page's Content-Security-Policy: nothing but the stylesheet, from this origin. */
export const DOCS_CSP = "default-src 'none'; style-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

type Json = Record<string, any>;

export function docsPage(doc: Json): string {
  const byTag = new Map<string, string[]>();
  const toc = new Map<string, string[]>();
  for (const [path, methods] of Object.entries(doc.paths as Record<string, Json>)) {
    for (const [method, op] of Object.entries(methods)) {
      const tag = op.tags?.[0] ?? 'Other';
      const id = op.operationId as string;
      if (!byTag.has(tag)) {
        byTag.set(tag, []);
        toc.set(tag, []);
      }
      toc.get(tag)!.push(`<li><a href="#${escapeHtml(id)}"><code class="m ${method}">${method.toUpperCase()}</code> ${escapeHtml(path)}</a></li>`);
      byTag.get(tag)!.push(operationHtml(method, path, op));
    }
  }
  const tags = (doc.tags as { name: string }[]).map((t) => t.name).filter((t) => byTag.has(t));
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(doc.info.title)}: API reference</title>
<link rel="stylesheet" href="/api/docs.css">
</head>
<body>
<header>
<h1>${escapeHtml(doc.info.title)}</h1>
<p>${escapeHtml(doc.info.description)}</p>
<p>Machine-readable: <a href="/api/openapi.json">/api/openapi.json</a> (OpenAPI ${escapeHtml(doc.openapi)}).</p>
</header>
<nav aria-label="Calls">
${tags.map((t) => `<h2>${escapeHtml(t)}</h2><ul>${toc.get(t)!.join('')}</ul>`).join('\n')}
</nav>
<main>
${tags.map((t) => `<section><h2 id="tag-${escapeHtml(t)}">${escapeHtml(t)}</h2>${byTag.get(t)!.join('\n')}</section>`).join('\n')}
</main>
</body>
</html>
`;
}

function operationHtml(method: string, path: string, op: Json): string {
  const params: Json[] = op.parameters ?? [];
  const body: Json | undefined = op.requestBody?.content?.['application/json'];
  const bodyFields = body?.schema?.properties ? Object.entries(body.schema.properties as Json).map(([name, s]) => ({ name, required: body.schema.required?.includes(name) ?? false, schema: s })) : [];
  const rows = params.length ? params.map((p) => ({ name: p.name, required: p.required, schema: p.schema })) : bodyFields;
  const example = params.length
    ? `curl '${path}?${[...params.filter((p) => p.example !== undefined).map((p) => `${p.name}=${encodeURIComponent(p.example)}`), 'api_key=KEY'].join('&')}'${method === 'get' ? '' : ` -X ${method.toUpperCase()}`}`
    : body?.example !== undefined
      ? `curl '${path}' -X ${method.toUpperCase()} -H 'Content-Type: application/json' \\\n  -d '${JSON.stringify({ api_key: 'KEY', ...(body.example as Json) })}'`
      : `curl '${path}?api_key=KEY'`;
  return `<article id="${escapeHtml(op.operationId)}">
<h3><code class="m ${method}">${method.toUpperCase()}</code> <code>${escapeHtml(path)}</code></h3>
<p class="summary">${escapeHtml(op.summary)}</p>
${(op.description as string).split('\n\n').map((p) => `<p>${escapeHtml(p)}</p>`).join('')}
${
  rows.length
    ? `<table><thead><tr><th>Parameter</th><th>Required</th><th>Form</th></tr></thead><tbody>${rows
        .map((r) => `<tr><td><code>${escapeHtml(r.name)}</code></td><td>${r.required ? 'yes' : ''}</td><td>${escapeHtml(describe(r.schema))}</td></tr>`)
        .join('')}</tbody></table>`
    : ''
}
<pre><code>${escapeHtml(example)}</code></pre>
</article>`;
}

/** The forms params.ts checks, in words. */
const PATTERNS: Record<string, string> = {
  '^\\d{1,10}$': 'a whole number such as 12345',
  '^\\d{4}-\\d{2}-\\d{2}$': 'a date, YYYY-MM-DD',
  '^\\d{4}-\\d{2}-\\d{2}([ T]\\d{2}:\\d{2}(:\\d{2})?)?Z?$': 'a date and time, YYYY-MM-DD HH:MM:SS (UTC)',
  '^\\d{1,9}(\\.\\d{1,4})?$': 'an amount such as 18.50',
  '^(true|false|1|0)$': 'true or false (or 1, 0)',
};

/** A schema in a few words: `one of active, inactive`, `text matching ^\d{1,10}$`, `number 0..100`. */
function describe(s: Json | undefined): string {
  if (!s) return '';
  if (typeof s.description === 'string') return s.description;
  if (s.enum) return `one of ${s.enum.join(', ')}${s.default !== undefined ? ` (default ${s.default})` : ''}`;
  if (s.anyOf) return (s.anyOf as Json[]).map(describe).join(' or ');
  const def = s.default !== undefined ? ` (default ${JSON.stringify(s.default)})` : '';
  switch (s.type) {
    case 'string':
      if (s.pattern && PATTERNS[s.pattern]) return `${PATTERNS[s.pattern]}${def}`;
      return `${s.pattern ? `text matching ${s.pattern}` : 'text'}${s.maxLength ? `, at most ${s.maxLength} characters` : ''}${def}`;
    case 'integer':
    case 'number':
      return `${s.type === 'integer' ? 'whole number' : 'number'}${s.minimum !== undefined || s.maximum !== undefined ? ` ${s.minimum ?? s.exclusiveMinimum ?? ''}..${s.maximum ?? ''}` : ''}${def}`;
    case 'boolean':
      return `true or false${def}`;
    case 'array':
      return `list of ${describe(s.items)}`;
    case 'object':
      return `object (${Object.keys(s.properties ?? {}).join(', ')})`;
    case 'null':
      return 'null';
    default:
      return s.const !== undefined ? JSON.stringify(s.const) : 'any';
  }
}

export const DOCS_CSS = `:root { color-scheme: light dark; --fg: #1d1d1f; --bg: #fff; --muted: #666; --line: #ddd; --code: #f4f4f6; }
@media (prefers-color-scheme: dark) { :root { --fg: #e8e8ea; --bg: #141416; --muted: #aaa; --line: #333; --code: #222226; } }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, sans-serif; color: var(--fg); background: var(--bg); display: grid; grid-template-columns: 18rem 1fr; }
header { grid-column: 1 / -1; padding: 1rem 2rem; border-bottom: 1px solid var(--line); }
nav { padding: 1rem; border-right: 1px solid var(--line); font-size: 13px; position: sticky; top: 0; align-self: start; max-height: 100vh; overflow: auto; }
nav h2 { font-size: 13px; text-transform: uppercase; color: var(--muted); margin: 1rem 0 .25rem; }
nav ul { list-style: none; margin: 0; padding: 0; }
nav a { color: inherit; text-decoration: none; display: block; padding: 1px 0; }
main { padding: 1rem 2rem; min-width: 0; }
article { border-bottom: 1px solid var(--line); padding: 1rem 0; }
h3 { margin: 0 0 .25rem; font-size: 17px; }
.summary { font-weight: 600; margin: 0 0 .5rem; }
code, pre { font-family: ui-monospace, monospace; font-size: 13px; }
pre { background: var(--code); padding: .75rem; overflow: auto; border-radius: 4px; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0; font-size: 13px; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
.m { display: inline-block; min-width: 4.2em; font-weight: 700; }
.get { color: #1a7f37; } .post { color: #0969da; } .put { color: #9a6700; } .delete { color: #cf222e; }
@media (max-width: 800px) { body { display: block; } nav { position: static; max-height: none; border-right: 0; } }
`;
