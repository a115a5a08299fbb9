// /d.ashx: lead posts (PROTOCOL.md 4). The route reads the post, hands it to acceptLead, and answers:
// the XML or JSON envelope, or a browser post's 302 to the offer's thank-you page.
import { Hono } from 'hono';
import { cors } from 'hono/cors';
import type { AppDeps } from '../app.js';
import { crossOriginHeaders } from '../security.js';
import { limitBody, NO_STORE, offerCookie, readCookie } from '../http.js';
import { acceptLead } from '../leads/accept.js';
import { refusalAnswer, redirectAnswer, successAnswer } from '../leads/answer.js';
import { BadLeadBody, formatOfHeaders, readLeadPost } from '../leads/parse.js';

/** A lead is a few fields; this leaves room for long comments and nothing more. */
export const MAX_LEAD_BODY = 64 * 1024;

export function leadRoutes(deps: AppDeps) {
  // Landing pages post from their own origins (d.js with credentials, so that the click cookie
  // rides along): those of the offer and thank-you URLs and the network's cors_origins, as the
  // network is now.
  const corsHeaders = cors({
    origin: (origin) => (deps.network.allowsOrigin(origin) ? origin : null),
    credentials: true,
    allowMethods: ['GET', 'POST'],
    allowHeaders: ['Content-Type', 'Accept', 'X-Requested-With'],
    maxAge: 7200,
  });

  const app = new Hono();
  app.use(
    '/d.ashx',
    crossOriginHeaders,
    // Only a browser's cross-origin request carries Origin, and only it reads CORS headers. Server
    // posts (lead routers, affiliates' servers) have none: skipping the middleware for them saves a
    // quarter of a post's time, since it rewrites the headers of every answer.
    (c, next) => (c.req.header('origin') === undefined ? next() : corsHeaders(c, next)),
    limitBody(MAX_LEAD_BODY, (c) => {
      const res = refusalAnswer(formatOfHeaders(c), {
        errors: ['Validation Failed'],
        fields: { body: `is larger than ${MAX_LEAD_BODY} bytes: send the lead's fields only` },
        status: 413,
      });
      // The rest of the body is not read, so this connection cannot carry another request.
      res.headers.set('Connection', 'close');
      return res;
    }),
  );

  app.on(['GET', 'POST'], '/d.ashx', async (c) => {
    // Hono answers HEAD with the GET handler; link checkers and monitors send it. It records nothing.
    if (c.req.method === 'HEAD') return new Response(null, { status: 405, headers: { Allow: 'GET, POST', 'Cache-Control': NO_STORE } });
    let post;
    try {
      post = await readLeadPost(c);
    } catch (error) {
      if (!(error instanceof BadLeadBody)) throw error;
      return refusalAnswer(error.format, { errors: ['Validation Failed'], fields: error.fields, status: error.status });
    }
    const outcome = await acceptLead(deps, {
      params: post.params,
      ip: deps.clientIp(c),
      userAgent: c.req.header('user-agent'),
      heldReqid: (offer_id) => readCookie(c, offerCookie(offer_id)),
    });
    if (!outcome.accepted) return refusalAnswer(post.format, outcome.refusal);
    // A JSON post is read by a script (d.js), which follows `redirect` itself: never a 302 there.
    if (outcome.redirects && outcome.redirect && post.format === 'xml') return redirectAnswer(outcome.redirect);
    return successAnswer(post.format, { leadid: outcome.leadid, price_cents: outcome.price_cents, redirect: outcome.redirect });
  });

  return app;
}
