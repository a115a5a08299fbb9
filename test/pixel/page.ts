// A landing page for the pixel/ sources: a fresh happy-dom Window per page, made the global
// environment (document, window, localStorage, …) while the sources run, with the script's
// outgoing traffic recorded: conversion pixels (Image) and lead posts (fetch).
// The sources keep their state in module variables, as the one script of a page does, so each
// page imports them afresh.
import { Window } from 'happy-dom';
import { vi } from 'vitest';
import type { Config } from '../../pixel/index.js';

export const LANDING = 'https://lp.example.com/quote';
export const BASE = 'https://track.example.com';
/** A reqid as the server issues them. */
export const REQID = 'Hk3vQ9xT2mPq8LrZ0aBcDe';
export const OTHER_REQID = 'Zz9yXw8VuT7sR6qP5oNmLk';

/** The browser globals the sources use, read from the current page's window. */
const GLOBALS = ['window', 'document', 'location', 'localStorage', 'MutationObserver', 'Image', 'FormData', 'fetch'] as const;
let current: Window | undefined;
for (const name of GLOBALS) {
  Object.defineProperty(globalThis, name, { configurable: true, get: () => (current as any)?.[name] });
}

export interface FetchCall {
  url: string;
  init: RequestInit;
}

export interface PageOptions {
  url?: string;
  html?: string;
  /** The script tag's data attributes (as start() takes them). */
  config?: Partial<Config>;
  /** What lead posts answer (default: a success). */
  answer?: (call: FetchCall) => Promise<Response> | Response;
  /** Runs before the script starts: the page's own scripts (queue stub, JS click pixel), or a
   * blocked store. */
  before?: (win: Window) => void;
  /** Storage to carry over, as a reload of the same page in the same browser does. */
  from?: Page;
  /** The script pasted inline: configured from a <script> without src (and `config` as its data
   * attributes), not by start({ base }). */
  inline?: boolean;
}

export interface Page {
  win: Window;
  doc: Window['document'];
  /** Every URL given to an Image (conversion pixels), in order. */
  images: string[];
  /** Every fetch the script made. */
  posts: FetchCall[];
  /** Every document.cookie assignment. */
  cookieWrites: string[];
  options: PageOptions;
  ckm(command: string, ...args: unknown[]): void;
  /** The same page again in a new window, with this one's cookies and localStorage. */
  reload(changes?: Partial<PageOptions>): Promise<Page>;
}

export const SUCCESS = { code: 0, msg: 'success', leadid: '0000002A', price: 18, redirect: 'https://lp.example.com/thanks?lead=0000002A' };

export async function openPage(options: PageOptions = {}): Promise<Page> {
  const win = new Window({ url: options.url ?? LANDING });
  const doc = win.document;
  doc.body.innerHTML = options.html ?? '';
  const images: string[] = [];
  const posts: FetchCall[] = [];
  const cookieWrites: string[] = [];
  (win as any).Image = class {
    set src(url: string) {
      images.push(url);
    }
  };
  (win as any).fetch = async (url: string, init: RequestInit) => {
    // As a browser: a scheme other than http(s) is refused before any request.
    if (!/^https?:/i.test(String(url))) throw new TypeError(`Failed to fetch ${url}: URL scheme is not supported`);
    const call = { url: String(url), init };
    posts.push(call);
    return options.answer ? options.answer(call) : Response.json(SUCCESS);
  };
  if (options.from) copyStorage(options.from.win, win);
  recordCookieWrites(doc, cookieWrites);
  options.before?.(win);

  current = win;
  vi.resetModules();
  if (options.inline) {
    const { configure } = await import('../../pixel/config.js');
    const { run } = await import('../../pixel/index.js');
    configure({ dataset: { ...options.config }, src: '' });
    run();
  } else {
    const { start } = await import('../../pixel/index.js');
    start({ base: BASE, ...options.config });
  }
  await settle();

  const page: Page = {
    win,
    doc,
    images,
    posts,
    cookieWrites,
    options,
    ckm: (command, ...args) => (win as any).ckm(command, ...args),
    reload: (changes = {}) => openPage({ ...options, before: undefined, ...changes, from: page }),
  };
  return page;
}

/** Lets the document's mutation observers and pending promises run. */
export const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

/** The page's queue stub, as PROTOCOL.md section 3 has pages write it. */
export function queueStub(win: Window): (...args: unknown[]) => void {
  const stub: any = function (...args: unknown[]) {
    (stub.q = stub.q || []).push(args);
  };
  (win as any).ckm = stub;
  return stub;
}

/** The `ckm_request_id` fields of the page, in document order. */
export function fields(page: Page, selector = 'form'): string[] {
  return [...page.doc.querySelectorAll(`${selector} [name=ckm_request_id]`)].map((el: any) => el.value);
}

/** The record the script keeps, as localStorage holds it. */
export function stored(page: Page): string | null {
  return page.win.localStorage.getItem('ckm_request_id');
}

function recordCookieWrites(doc: Window['document'], writes: string[]) {
  let proto = Object.getPrototypeOf(doc);
  while (proto && !Object.getOwnPropertyDescriptor(proto, 'cookie')) proto = Object.getPrototypeOf(proto);
  const native = Object.getOwnPropertyDescriptor(proto, 'cookie')!;
  Object.defineProperty(doc, 'cookie', {
    configurable: true,
    get: () => native.get!.call(doc),
    set: (value: string) => {
      writes.push(value);
      native.set!.call(doc, value);
    },
  });
}

/** Cookies and localStorage entries of `from` into `to` (what a blocked store kept: nothing). */
function copyStorage(from: Window, to: Window) {
  let cookies = '';
  try {
    cookies = from.document.cookie;
  } catch {}
  for (const pair of cookies.split('; ').filter(Boolean)) to.document.cookie = `${pair}; path=/`;
  let storage: Window['localStorage'] | undefined;
  try {
    storage = from.localStorage;
  } catch {}
  for (let i = 0; i < (storage?.length ?? 0); i++) {
    const key = storage!.key(i)!;
    to.localStorage.setItem(key, storage!.getItem(key)!);
  }
}

/** Makes `name` throw as a browser that blocks it does (sandboxed iframe, storage disabled). */
export function block(target: object, name: string) {
  const denied = () => {
    throw new Error(`SecurityError: access to ${name} is denied`);
  };
  Object.defineProperty(target, name, { configurable: true, get: denied, set: denied });
}
