// The Node entry's HTTP client for postbacks: fetch's shape (the dispatcher stays runtime-agnostic),
// with the address rules checked on the address actually connected to. The host is resolved here,
// every address it resolves to is checked (postbacks/address.ts), and the socket is opened to one
// of those checked addresses: nothing resolves the name a second time between the check and the
// connection, so DNS rebinding cannot slip another address in. Redirects are not followed here:
// the dispatcher follows them, and each hop comes back through this check.
//
// One request per connection (Connection: close), GET only; the answer's body is never read.
import { lookup } from 'node:dns/promises';
import { request } from 'node:http';
import { connect as tcpConnect, isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import { checkAddress, checkUrl, type PostbackTargets, type Resolve } from './address.js';

/** One connection to make: an address already checked, never a name. */
export interface Dial {
  address: string;
  port: number;
  /** https: the TLS handshake is part of connecting, verified for `servername`. */
  tls: boolean;
  /** The URL's host name, for TLS (SNI and the certificate); undefined for an address. */
  servername?: string;
  signal: AbortSignal;
}

/** Opens a connection; resolves once it is ready to carry the request. */
export type Connect = (dial: Dial) => Promise<Duplex>;

export interface NodeSendOptions {
  /** The network's rules, read for every request (the network may change while we run). */
  targets: () => PostbackTargets;
  /** dns.lookup by default. */
  resolve?: Resolve;
  /** TCP (and TLS) by default. */
  connect?: Connect;
}

/** How long a name may take to resolve before the attempt gives up on it. */
const RESOLVE_TIMEOUT_MS = 5_000;

/** Every address of a name, as the system's resolver answers (IPv4 and IPv6, in its order). */
export const resolveHost: Resolve = async (hostname) => {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`resolving ${hostname} took more than ${RESOLVE_TIMEOUT_MS} ms`), { code: 'ETIMEOUT' })), RESOLVE_TIMEOUT_MS);
  });
  try {
    const found = await Promise.race([lookup(hostname, { all: true, verbatim: true }), timeout]);
    return found.map((a) => a.address);
  } finally {
    clearTimeout(timer);
  }
};

export const connectSocket: Connect = ({ address, port, tls, servername, signal }) =>
  new Promise((resolve, reject) => {
    const socket = tls ? tlsConnect({ host: address, port, servername, ALPNProtocols: ['http/1.1'] }) : tcpConnect({ host: address, port });
    const ready = tls ? 'secureConnect' : 'connect';
    const abort = () => socket.destroy(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    const done = () => {
      signal.removeEventListener('abort', abort);
      socket.off('error', fail);
    };
    const fail = (error: Error) => {
      done();
      reject(error);
    };
    socket.once(ready, () => {
      done();
      resolve(socket);
    });
    socket.once('error', fail);
    if (signal.aborted) abort();
    else signal.addEventListener('abort', abort, { once: true });
  });

/** A fetch for the dispatcher (redirect: 'manual' is how it behaves whatever init says). */
export function nodeSend(options: NodeSendOptions): (url: string, init: RequestInit) => Promise<Response> {
  const resolve = options.resolve ?? resolveHost;
  const connect = options.connect ?? connectSocket;

  return async (url, init) => {
    const signal = init.signal ?? new AbortController().signal;
    const rules = options.targets();
    const target = checkUrl(url, rules);
    const addresses = target.address !== null ? [target.address] : await abortable(resolve(target.hostname), signal);
    if (!addresses.length) throw Object.assign(new Error(`${target.hostname} has no address`), { code: 'ENOTFOUND' });
    // Every address is checked before any is dialled: a name that mixes public and private
    // answers is refused, whichever one a retry would get.
    for (const address of addresses) checkAddress(address, target.port, rules);

    let socket: Duplex | undefined;
    let failure: unknown;
    for (const address of addresses) {
      try {
        socket = await connect({ address, port: target.port, tls: target.tls, servername: isIP(target.hostname) ? undefined : target.hostname, signal });
        break;
      } catch (error) {
        if (signal.aborted) throw error;
        failure = error;
      }
    }
    if (!socket) throw failure;
    return exchange(socket, url, init, signal);
  };
}

/** Sends one GET on a connected socket; answers its status and Location, and closes it. */
function exchange(socket: Duplex, url: string, init: RequestInit, signal: AbortSignal): Promise<Response> {
  const parsed = new URL(url);
  const headers: Record<string, string> = { ...Object.fromEntries(new Headers(init.headers)), Host: parsed.host, Connection: 'close' };
  return new Promise((resolve, reject) => {
    const req = request({
      createConnection: () => socket as never,
      method: init.method ?? 'GET',
      path: `${parsed.pathname}${parsed.search}`,
      headers,
      setHost: false,
      signal,
    });
    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      const location = res.headers.location;
      // Not read: the delivery log keeps the status, never the body.
      res.destroy();
      socket.destroy();
      if (status < 200 || status > 599) return reject(Object.assign(new Error(`the server answered status ${status}`), { code: 'HPE_INVALID_STATUS' }));
      resolve(new Response(null, { status, headers: location ? { location } : {} }));
    });
    req.on('error', (error) => {
      socket.destroy();
      reject(error);
    });
    req.end();
  });
}

function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const abort = () => reject(signal.reason);
    signal.addEventListener('abort', abort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', abort);
        resolve(value);
      },
      (error) => {
        signal.removeEventListener('abort', abort);
        reject(error);
      },
    );
  });
}
