// A stand-in for the internet, for the postback sender (server/postbacks/node-send.ts): a resolver
// that answers from a table, and a connect hook that records every address it is asked to dial
// and connects only the "public" addresses the test maps to a local server on 127.0.0.1. Nothing
// here ever opens a connection outside 127.0.0.0/8 or asks a real DNS server: an address the test
// did not map is refused without being dialled, and the test reads `dials` to check what was.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect as tcpConnect, type AddressInfo, type Socket } from 'node:net';
import type { Connect } from '../../server/postbacks/node-send.js';

export interface Internet {
  /** host name -> the addresses it resolves to (change it between calls to rebind). */
  dns: Record<string, string[]>;
  /** Every host name resolved, in order. */
  resolved: string[];
  /** Every `address:port` the sender asked to connect to, in order (IPv6 bracketed). */
  dials: string[];
  resolve(hostname: string): Promise<string[]>;
  connect: Connect;
  /** Makes `address:port` reach `local` (a server on 127.0.0.1). */
  route(address: string, port: number, local: LocalSite): void;
}

export function fakeInternet(dns: Record<string, string[]> = {}): Internet {
  const routes = new Map<string, number>();
  const key = (address: string, port: number) => (address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`);
  const internet: Internet = {
    dns,
    resolved: [],
    dials: [],
    async resolve(hostname) {
      internet.resolved.push(hostname);
      const found = internet.dns[hostname];
      if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
      return found;
    },
    connect: ({ address, port, signal }) => {
      internet.dials.push(key(address, port));
      const local = routes.get(key(address, port));
      // Not dialled: refused here, as a closed port would be.
      if (local === undefined) return Promise.reject(Object.assign(new Error(`connect ECONNREFUSED ${key(address, port)}`), { code: 'ECONNREFUSED' }));
      return new Promise<Socket>((resolve, reject) => {
        const socket = tcpConnect({ host: '127.0.0.1', port: local });
        socket.once('connect', () => resolve(socket));
        socket.once('error', reject);
        signal.addEventListener('abort', () => socket.destroy(new Error('aborted')), { once: true });
      });
    },
    route(address, port, local) {
      routes.set(key(address, port), local.port);
    },
  };
  return internet;
}

/** A site on 127.0.0.1 that answers by path: /redirect?to=URL (302 there), /status/NNN, /hang
 * (never answers), anything else 200. It records every request with its Host header. */
export interface LocalSite {
  port: number;
  /** http://127.0.0.1:PORT */
  base: string;
  requests: { path: string; host: string | undefined; url: string }[];
  /** Requests that have arrived and are not answered yet. */
  open(): number;
  close(): Promise<void>;
}

export async function startSite(): Promise<LocalSite> {
  const requests: LocalSite['requests'] = [];
  const hanging = new Set<ServerResponse>();
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://site');
    requests.push({ path: url.pathname, host: req.headers.host, url: req.url ?? '' });
    req.resume();
    if (url.pathname === '/hang') {
      hanging.add(res);
      res.on('close', () => hanging.delete(res));
      return;
    }
    if (url.pathname === '/redirect') {
      res.writeHead(Number(url.searchParams.get('status') ?? 302), { location: url.searchParams.get('to') ?? '/' });
      return res.end();
    }
    const status = /^\/status\/(\d{3})$/.exec(url.pathname);
    res.writeHead(status ? Number(status[1]) : 200, { 'content-type': 'text/plain' });
    res.end('secret body the log must never keep');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    base: `http://127.0.0.1:${port}`,
    requests,
    open: () => hanging.size,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
