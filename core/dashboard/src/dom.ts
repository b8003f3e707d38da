/**
 * A tiny element builder. Text is always set as text nodes, never as HTML, so nothing the API returns
 * (cluster names, event messages) can inject markup.
 */
type Attrs = Record<string, string | number | boolean | null | undefined | ((event: Event) => void)>;
export type Child = Node | string | number | null | undefined | false | Child[];

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (typeof value === 'function') element.addEventListener(name.replace(/^on/, ''), value);
    else if (value === true) element.setAttribute(name, '');
    else element.setAttribute(name, String(value));
  }
  append(element, children);
  return element;
}

function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else parent.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
  }
}

/** Replaces an element's children. */
export function fill(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, children);
}

/** "3 s ago", "2 min ago": heartbeat and event ages at a glance. */
export function ago(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return 'never';
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 86_400) return `${Math.round(seconds / 3600)} h ago`;
  return `${Math.round(seconds / 86_400)} d ago`;
}

/** "in 29 d", "expired": certificate expiry. */
export function until(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return 'unknown';
  const seconds = Math.round((Date.parse(iso) - now) / 1000);
  if (seconds <= 0) return 'expired';
  if (seconds < 3600) return `in ${Math.round(seconds / 60)} min`;
  if (seconds < 86_400) return `in ${Math.round(seconds / 3600)} h`;
  return `in ${Math.round(seconds / 86_400)} d`;
}

/** A state word as a badge whose colour class comes from a fixed list, never from the value itself. */
export function badge(state: string | null | undefined): HTMLElement {
  const word = state ?? 'unknown';
  const tone = /^(succeeded|done|running|healthy|ok)$/.test(word)
    ? 'good'
    : /^(failed|error|unresponsive|missing|critical|timeout|cancelled|unavailable)$/.test(word)
      ? 'bad'
      : /^(in progress|queued|processing|starting|creating|pending|running-step|recreating|warning|cancelling)$/.test(
            word,
          )
        ? 'busy'
        : 'neutral';
  return h('span', { class: `badge ${tone}` }, word);
}
