import { ApiError } from '../api.js';
import { h } from '../dom.js';

/** An error as the API phrased it, with its hint: the dashboard never invents its own wording. */
export function errorBox(error: unknown): HTMLElement {
  const message = error instanceof Error ? error.message : String(error);
  const hint = error instanceof ApiError ? error.hint : undefined;
  return h(
    'div',
    { class: 'error', role: 'alert' },
    h('p', {}, message),
    hint ? h('p', { class: 'hint' }, hint) : null,
  );
}

export function table(caption: string, headings: string[], rows: HTMLElement[]): HTMLElement {
  return h(
    'table',
    {},
    h('caption', {}, caption),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        headings.map((heading) => h('th', { scope: 'col' }, heading)),
      ),
    ),
    h(
      'tbody',
      {},
      rows.length ? rows : h('tr', {}, h('td', { colspan: headings.length, class: 'empty' }, 'None yet.')),
    ),
  );
}

export function field(label: string, input: HTMLInputElement | HTMLSelectElement, help?: string): HTMLElement {
  const id = input.id || `f-${label.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;
  input.id = id;
  const helpId = help ? `${id}-help` : undefined;
  if (helpId) input.setAttribute('aria-describedby', helpId);
  return h(
    'div',
    { class: 'field' },
    h('label', { for: id }, label),
    input,
    help ? h('small', { id: helpId }, help) : null,
  );
}

/** Polls while the view is open: the fallback where the event stream is not offered. */
export function every(ms: number, signal: AbortSignal, run: () => unknown): void {
  const timer = setInterval(() => {
    void run();
  }, ms);
  signal.addEventListener('abort', () => clearInterval(timer));
}
