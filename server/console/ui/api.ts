// The console's one way to the server: the public v2 API (and /console/session), with the session
// cookie the browser sends by itself and the CSRF token in its header. Nothing else is fetched.
export interface Problem {
  parameter: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly problems: Problem[] = [],
  ) {
    super(message);
  }
}

export interface SessionInfo {
  signed_in: true;
  network: string;
  role: 'admin' | 'advertiser' | 'affiliate';
  key_id: number;
  label: string | null;
  advertiser_id: number | null;
  affiliate_id: number | null;
  csrf: string;
  expires_at: string;
}

let csrf = '';
let onSignedOut: () => void = () => {};

export function useSession(session: SessionInfo | null, signedOut?: () => void): void {
  csrf = session?.csrf ?? '';
  if (signedOut) onSignedOut = signedOut;
}

type Value = string | number | boolean | null | undefined;

function query(params: Record<string, Value>): string {
  const q = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== undefined && value !== null && value !== '') q.set(name, String(value));
  const text = q.toString();
  return text ? `?${text}` : '';
}

async function send(method: string, url: string, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = { 'X-Crumb-CSRF': csrf, Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  return fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin', cache: 'no-store' });
}

async function answer<T>(res: Response): Promise<T> {
  const data = (await res.json().catch(() => ({}))) as { request_status?: string; message?: string; errors?: Problem[] };
  if (res.status === 401) onSignedOut();
  if (!res.ok || data.request_status === 'Failure') {
    throw new ApiError(data.message ?? `The server answered ${res.status}`, res.status, data.errors ?? []);
  }
  return data as T;
}

/** A call of /api/2: GET and DELETE with a query string, POST and PUT with a JSON body. */
export async function api<T = Record<string, unknown>>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, params: Record<string, unknown> = {}): Promise<T> {
  const url = `/api/2/${path}`;
  if (method === 'GET' || method === 'DELETE') return answer<T>(await send(method, url + query(params as Record<string, Value>)));
  return answer<T>(await send(method, url, params));
}

/** A CSV answer of the API, as text. */
export async function apiText(path: string, params: Record<string, Value>): Promise<string> {
  const res = await send('GET', `/api/2/${path}${query(params)}`);
  if (!res.ok) {
    const data = (await res.json().catch(() => ({}))) as { message?: string };
    throw new ApiError(data.message ?? `The server answered ${res.status}`, res.status);
  }
  return res.text();
}

export async function readSession(): Promise<SessionInfo | null> {
  const res = await fetch('/console/session', { credentials: 'same-origin', cache: 'no-store' });
  const data = (await res.json().catch(() => ({}))) as SessionInfo | { signed_in: false };
  return res.ok && data.signed_in ? data : null;
}

export async function signIn(apiKey: string): Promise<SessionInfo> {
  const res = await fetch('/console/session', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ api_key: apiKey }), credentials: 'same-origin' });
  const data = (await res.json().catch(() => ({}))) as SessionInfo & { message?: string; errors?: Problem[] };
  if (!res.ok) throw new ApiError(data.message ?? data.errors?.[0]?.message ?? `The server answered ${res.status}`, res.status, data.errors ?? []);
  return data;
}

export async function signOut(): Promise<void> {
  await fetch('/console/session', { method: 'DELETE', headers: { 'X-Crumb-CSRF': csrf }, credentials: 'same-origin' });
  csrf = '';
}

/** Show the API's messages beside the fields they name (`fields.0.name` beside `fields`); what
 * names no field of the form goes in its general message. No error: the messages are cleared. */
export function showProblems(form: HTMLElement, error: unknown): void {
  for (const el of form.querySelectorAll('.field .error')) el.textContent = '';
  const general = form.querySelector('.form-error');
  if (general) general.textContent = '';
  if (error === null || error === undefined) return;
  if (!(error instanceof ApiError)) {
    if (general) general.textContent = String(error instanceof Error ? error.message : error);
    return;
  }
  const left: string[] = [];
  for (const p of error.problems) {
    const name = p.parameter.split(/[.[]/)[0] ?? p.parameter;
    const slot = form.querySelector(`.field[data-field="${CSS.escape(name)}"] .error`);
    if (slot) slot.textContent = slot.textContent ? `${slot.textContent}; ${p.parameter}: ${p.message}` : name === p.parameter ? p.message : `${p.parameter}: ${p.message}`;
    else left.push(`${p.parameter}: ${p.message}`);
  }
  if (general) general.textContent = left.length ? left.join('; ') : error.problems.length ? 'Fix the fields marked below.' : error.message;
}
