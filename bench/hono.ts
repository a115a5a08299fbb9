// The stack's ceiling: Hono on @hono/node-server with no storage, serving one path's route (a POST's
// body read as text, as any handler must) with that path's baseline answer (bench/paths.ts). What
// Crumb spends beyond it is Crumb's own work: parsing, validation, the store, the answer's headers.
//   node dist/bench/hono.js PATH
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import type { Server } from 'node:http';
import { pathNamed } from './paths.js';

const path = pathNamed(process.argv[2] ?? 'click');

const app = new Hono();
app.on(path.method, path.route, async (c) => {
  if (path.method === 'POST') await c.req.text();
  const answer = path.baseline();
  return new Response(answer.body, { status: answer.status, headers: answer.headers });
});
const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => console.log(`listening on http://127.0.0.1:${info.port}`)) as Server;
process.on('SIGTERM', () => server.close(() => process.exit(0)));
