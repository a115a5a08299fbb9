// The console (README, "The console"): sign-in, then pages chosen by the hash (#/dashboard, …).
// The key's role decides which pages exist; the API decides what each call may see, the same as
// for any client: hiding a page is for the person, scope is enforced by the server.
import { ApiError, readSession, signIn, signOut, useSession, type SessionInfo } from './api.js';
import { fill, h, notice } from './dom.js';
import { dashboardPage } from './pages/dashboard.js';
import { entityPage, ENTITY_PAGES } from './pages/entities.js';
import { generatorPage } from './pages/generator.js';
import { listPage, LIST_PAGES } from './pages/lists.js';
import { postbacksPage } from './pages/postbacks.js';
import { reportsPage } from './pages/reports.js';

export type Role = SessionInfo['role'];

interface PageDef {
  path: string;
  title: string;
  roles: Role[];
  render: (root: HTMLElement, session: SessionInfo) => void | Promise<void>;
}

const ALL: Role[] = ['admin', 'advertiser', 'affiliate'];

const PAGES: PageDef[] = [
  { path: 'dashboard', title: 'Dashboard', roles: ALL, render: dashboardPage },
  { path: 'reports', title: 'Reports', roles: ALL, render: reportsPage },
  ...LIST_PAGES.map((p) => ({ path: p.path, title: p.title, roles: p.roles, render: (root: HTMLElement, s: SessionInfo) => listPage(root, s, p) })),
  ...ENTITY_PAGES.map((p) => ({ path: p.kind, title: p.title, roles: ['admin'] as Role[], render: (root: HTMLElement) => entityPage(root, p) })),
  { path: 'generator', title: 'Links & pixels', roles: ['admin', 'affiliate'], render: generatorPage },
  { path: 'postbacks', title: 'Postbacks', roles: ['admin', 'affiliate'], render: postbacksPage },
];

const app = document.getElementById('app')!;
let session: SessionInfo | null = null;

async function boot(): Promise<void> {
  session = await readSession().catch(() => null);
  useSession(session, () => {
    session = null;
    showSignIn('Your session has ended: sign in again.');
  });
  if (session) route();
  else showSignIn();
}

function showSignIn(message?: string): void {
  document.title = 'Sign in · Crumb console';
  const input = h('input', { type: 'password', name: 'api_key', autocomplete: 'current-password', required: true, 'aria-label': 'API key', id: 'api-key' });
  const error = h('p', { class: 'notice error', role: 'alert', hidden: !message }, message ?? '');
  const form = h(
    'form',
    { class: 'sign-in' },
    h('h1', {}, 'Crumb console'),
    h('label', { for: 'api-key' }, 'API key'),
    input,
    h('small', { class: 'hint' }, 'An admin, advertiser or affiliate key of this network. It is exchanged for a session cookie and not kept in this page.'),
    error,
    h('button', { type: 'submit' }, 'Sign in'),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      session = await signIn(input.value);
      input.value = '';
      useSession(session);
      if (!location.hash || location.hash === '#/') location.hash = '#/dashboard';
      route();
    } catch (e) {
      error.hidden = false;
      error.textContent = e instanceof ApiError ? `The API key ${e.problems[0]?.message ?? e.message}` : String(e);
    }
  });
  fill(app, form);
  input.focus();
}

function route(): void {
  if (!session) return showSignIn();
  const s = session;
  const pages = PAGES.filter((p) => p.roles.includes(s.role));
  const wanted = location.hash.replace(/^#\/?/, '').split('?')[0] || 'dashboard';
  const page = pages.find((p) => p.path === wanted) ?? pages[0]!;
  document.title = `${page.title} · ${s.network} · Crumb console`;
  const who = s.role === 'admin' ? 'admin' : s.role === 'affiliate' ? `affiliate ${s.affiliate_id}` : `advertiser ${s.advertiser_id}`;
  const nav = h('nav', { 'aria-label': 'Console' }, ...pages.map((p) => h('a', { href: `#/${p.path}`, 'aria-current': p === page ? 'page' : null }, p.title)));
  const signOutButton = h('button', { type: 'button', class: 'link', 'data-testid': 'sign-out' }, 'Sign out');
  signOutButton.addEventListener('click', async () => {
    await signOut();
    session = null;
    location.hash = '';
    showSignIn('Signed out.');
  });
  const main = h('section', { class: 'page', 'data-page': page.path });
  fill(
    app,
    h('header', { class: 'top' }, h('strong', {}, s.network), h('span', { class: 'who', 'data-testid': 'who' }, `${who}${s.label ? ` · ${s.label}` : ''}`), signOutButton),
    nav,
    main,
  );
  main.append(h('h1', {}, page.title));
  Promise.resolve(page.render(main, s)).catch((e: unknown) => main.append(notice(e instanceof Error ? e.message : String(e))));
}

window.addEventListener('hashchange', route);
void boot();
