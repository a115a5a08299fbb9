// The console's DOM helpers: elements built with properties and text nodes, never from HTML text,
// so nothing an API answer holds (an offer's name, a sub id) can become markup.
type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | null | undefined | ((event: Event) => void)>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (typeof value === 'function') el.addEventListener(name.replace(/^on/, ''), value);
    else if (name === 'value' && 'value' in el) (el as HTMLInputElement).value = String(value);
    else if (name === 'checked' && 'checked' in el) (el as HTMLInputElement).checked = Boolean(value);
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

export function append(el: Element, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(typeof child === 'object' ? child : String(child));
  }
}

/** Replace everything inside `el`. */
export function fill(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

/** A table of rows: `columns` name the header and how each cell is drawn. */
export interface Column<T> {
  label: string;
  cell: (row: T) => Child;
  /** Numbers are right-aligned. */
  numeric?: boolean;
  /** Sort by this field when the header is clicked. */
  sort?: string;
}

export function table<T>(columns: Column<T>[], rows: T[], options: { sorted?: { field: string; descending: boolean }; onSort?: (field: string) => void; foot?: Child[]; empty?: string } = {}): HTMLElement {
  const head = h('tr', {}, ...columns.map((col) => {
    const th = h('th', { class: col.numeric ? 'num' : null, scope: 'col' });
    if (col.sort && options.onSort) {
      const mark = options.sorted?.field === col.sort ? (options.sorted.descending ? ' ▼' : ' ▲') : '';
      th.append(h('button', { type: 'button', class: 'sort', onclick: () => options.onSort!(col.sort!) }, col.label + mark));
    } else th.append(col.label);
    return th;
  }));
  const body = h('tbody', {}, ...rows.map((row) => h('tr', {}, ...columns.map((col) => h('td', { class: col.numeric ? 'num' : null }, col.cell(row))))));
  if (!rows.length) body.append(h('tr', {}, h('td', { colspan: columns.length, class: 'empty' }, options.empty ?? 'Nothing here yet.')));
  const foot = options.foot ? h('tfoot', {}, h('tr', {}, ...options.foot.map((cell, i) => h('td', { class: columns[i]?.numeric ? 'num' : null }, cell)))) : null;
  return h('div', { class: 'table-wrap' }, h('table', {}, h('thead', {}, head), body, foot));
}

/** A labelled form field, with the place where the API's message about it goes. */
export function field(label: string, input: HTMLElement, name: string, hint?: string): HTMLElement {
  return h('label', { class: 'field', 'data-field': name }, h('span', { class: 'label' }, label), input, hint ? h('small', { class: 'hint' }, hint) : null, h('span', { class: 'error', role: 'alert' }));
}

/** A copyable snippet: the text in a read-only box and a Copy button. */
export function snippet(label: string, text: string, testId: string): HTMLElement {
  const box = h('textarea', { readonly: true, rows: Math.min(8, text.split('\n').length + 1), 'data-testid': testId, spellcheck: 'false' });
  box.value = text;
  const button = h('button', { type: 'button', class: 'copy' }, 'Copy');
  button.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      box.select();
      document.execCommand('copy');
    }
    button.textContent = 'Copied';
    setTimeout(() => (button.textContent = 'Copy'), 1500);
  });
  return h('div', { class: 'snippet' }, h('div', { class: 'snippet-head' }, h('strong', {}, label), button), box);
}

export function notice(text: string, kind: 'error' | 'ok' = 'error'): HTMLElement {
  return h('p', { class: `notice ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text);
}
