/**
 * DOM helpers for the dashboard. Every string that came from the agent is untrusted: it goes
 * into the page only as text (textContent, attribute values set from script), never as HTML,
 * and passes through `clean` first so bidi controls cannot reorder what the user reads.
 */
import { MISSING } from '../protocol/format';

/** Bidi embedding/override/isolate controls and marks that can make text read differently than it is. */
const BIDI = /[\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C]/g;
/** C0/C1 controls other than tab and newline. */
// eslint-disable-next-line no-control-regex -- matching control characters is what this is for
const CONTROL = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/g;
/** Longest string put in the page; longer ones are cut with an ellipsis. */
export const MAX_TEXT = 2000;

/** Makes an untrusted string safe to show as text: bidi controls become a visible `[U+202E]` marker. */
export function clean(value: unknown, max = MAX_TEXT): string {
  let s = typeof value === 'string' ? value : String(value ?? '');
  if (s.length > max) s = `${s.slice(0, max)}…`;
  return s
    .replace(BIDI, (c) => `[U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}]`)
    .replace(CONTROL, '\uFFFD');
}

type Child = Node | string | null | undefined | false;

export interface Props {
  class?: string;
  /** Untrusted text is fine here: it is cleaned and set as textContent. */
  text?: string;
  /** Attribute values are set with setAttribute (never parsed as HTML); cleaned. */
  attrs?: Record<string, string | number | boolean | undefined>;
  title?: string;
  onClick?: (ev: MouseEvent) => void;
}

/** createElement with text, attributes and children. The only way views build DOM. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (props.class) el.className = props.class;
  if (props.text !== undefined) el.textContent = clean(props.text);
  if (props.title !== undefined) el.title = clean(props.title);
  if (props.attrs) {
    for (const [name, value] of Object.entries(props.attrs)) {
      if (value === undefined || value === false) continue;
      el.setAttribute(name, value === true ? '' : clean(String(value)));
    }
  }
  if (props.onClick) el.addEventListener('click', props.onClick as EventListener);
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(typeof child === 'string' ? document.createTextNode(clean(child)) : child);
  }
  if (tag === 'button' && !el.hasAttribute('type')) el.setAttribute('type', 'button');
  return el;
}

/** A real <button> (type=button) with a click handler. */
export function button(label: string, onClick: (ev: MouseEvent) => void, cls = ''): HTMLButtonElement {
  return h('button', { class: cls, text: label, onClick });
}

/**
 * Runs `handler` when the form is submitted: a click on its submit button, or Enter in one of
 * its inputs. Not the `submit` event: the editor opens the dashboard with forms disabled
 * (`enableForms: false`), and a form in such a frame never fires it. The default (a submission
 * attempt) is prevented, so a browser that allows forms does not submit it as well.
 */
export function onSubmit(form: HTMLFormElement, handler: () => void): void {
  form.addEventListener('click', (ev) => {
    if (!(ev.target instanceof Element) || ev.target.closest('button[type="submit"]') === null) return;
    ev.preventDefault();
    handler();
  });
  form.addEventListener('keydown', (ev) => {
    if (ev.key !== 'Enter' || !(ev.target instanceof HTMLInputElement)) return;
    ev.preventDefault();
    handler();
  });
}

/** Sets text only when it changed (a read of a cached string, no DOM read), so unchanged cells cost nothing. */
export function setText(el: HTMLElement, text: string): void {
  const cached = textCache.get(el);
  if (cached === text) return;
  textCache.set(el, text);
  el.textContent = clean(text);
}
const textCache = new WeakMap<HTMLElement, string>();

/** Sets a tooltip (the title attribute) only when it changed; an empty one removes it. */
export function setTitle(el: HTMLElement, title: string): void {
  if (titleCache.get(el) === title) return;
  titleCache.set(el, title);
  if (title) el.title = clean(title);
  else el.removeAttribute('title');
}
const titleCache = new WeakMap<HTMLElement, string>();

export function clear(el: Element): void {
  el.replaceChildren();
}

/** Replaces a container's children. */
export function fill(el: Element, ...children: Child[]): void {
  el.replaceChildren(...(children.filter(Boolean) as Array<Node | string>).map((c) => (typeof c === 'string' ? document.createTextNode(clean(c)) : c)));
}

export function empty(message: string): HTMLElement {
  return h('p', { class: 'empty', text: message });
}

export function section(title: string, ...children: Child[]): HTMLElement {
  return h('section', { class: 'card' }, h('h2', { text: title }), ...children);
}

/** A labelled figure. */
export function tile(label: string, value: string): HTMLElement {
  return h('div', { class: 'tile' }, h('span', { class: 'tile-label', text: label }), h('span', { class: 'tile-value', text: value }));
}

/** A key/value list (<dl>). */
export function kv(rows: Array<[string, string]>): HTMLDListElement {
  const dl = h('dl', { class: 'kv' });
  for (const [k, v] of rows) dl.append(h('dt', { text: k }), h('dd', { text: v }));
  return dl;
}

/** A simple table from header labels and rows of cells (strings or nodes). */
export function table(headers: string[], rows: Child[][], cls = 'data'): HTMLTableElement {
  const t = h('table', { class: cls });
  const tr = h('tr');
  for (const label of headers) tr.append(h('th', { text: label, attrs: { scope: 'col' } }));
  t.append(h('thead', {}, tr));
  const body = h('tbody');
  for (const row of rows) {
    const r = h('tr');
    for (const cell of row) r.append(cell instanceof Node ? h('td', {}, cell) : h('td', { text: cell ? String(cell) : '' }));
    body.append(r);
  }
  t.append(body);
  return t;
}

// ---------------------------------------------------------------- formatting

export function fmtTime(epochMs: number): string {
  if (!epochMs) return MISSING;
  const d = new Date(epochMs);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}
