// The API's own description (PROTOCOL.md 12): GET /api/openapi.json (OpenAPI 3.1, from the zod
// schemas the calls validate with) and GET /api/docs (the readable reference, with its stylesheet).
// Public, like any API reference: they describe the calls, never a network's data. Built once, on
// the first request.
import { Hono } from 'hono';
import { DOCS_CSP, DOCS_CSS, docsPage } from './docs-page.js';
import { openApiDocument } from './openapi.js';

export function referenceRoutes() {
  const app = new Hono();
  let document: string | undefined;
  let page: string | undefined;
  const json = () => (document ??= JSON.stringify(openApiDocument(), null, 2));
  const cache = 'public, max-age=300';
  app.get('/openapi.json', (c) => c.body(json(), 200, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': cache, 'Access-Control-Allow-Origin': '*' }));
  app.get('/docs', (c) => {
    page ??= docsPage(JSON.parse(json()));
    return c.body(page, 200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': DOCS_CSP, 'Cache-Control': cache });
  });
  app.get('/docs.css', (c) => c.body(DOCS_CSS, 200, { 'Content-Type': 'text/css; charset=utf-8', 'Cache-Control': cache }));
  return app;
}
