import { FakeApiError } from './http.js';

/** One comparison of a list filter: `labels.env = "prod"`, `status != TERMINATED`. */
interface Term {
  field: string;
  negate: boolean;
  value: string;
}

const TERM = /^\(?\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*(!=|=)\s*(?:"((?:[^"\\]|\\.)*)"|([^\s()"]+))\s*\)?/;

/**
 * The part of Compute's list filter syntax the fake understands: comparisons `FIELD = VALUE` and
 * `FIELD != VALUE` (values bare or in double quotes, terms optionally in parentheses), joined by `AND` or
 * by whitespace. Anything else is refused as GCE refuses a malformed filter.
 */
export function parseFilter(filter: string | null): Term[] {
  if (!filter?.trim()) return [];
  const terms: Term[] = [];
  let rest = filter.trim();
  while (rest.length > 0) {
    const match = TERM.exec(rest);
    if (!match) throw badFilter(filter);
    terms.push({
      field: match[1]!,
      negate: match[2] === '!=',
      value: match[3] !== undefined ? match[3].replace(/\\(.)/g, '$1') : match[4]!,
    });
    rest = rest.slice(match[0].length).trim();
    if (/^AND\b/.test(rest)) rest = rest.slice(3).trim();
    else if (/^OR\b/.test(rest)) throw badFilter(filter);
  }
  return terms;
}

export function matches(view: Record<string, unknown>, terms: readonly Term[]): boolean {
  return terms.every((term) => {
    let value: unknown = view;
    for (const part of term.field.split('.'))
      value = value && typeof value === 'object' ? (value as Record<string, unknown>)[part] : undefined;
    const equal = value !== undefined && String(value) === term.value;
    return term.negate ? !equal : equal;
  });
}

function badFilter(filter: string): FakeApiError {
  return new FakeApiError(
    400,
    'invalid',
    `Invalid value for field 'filter': '${filter}'. Invalid list filter expression.`,
  );
}

/** `maxResults` (default and cap 500) and an opaque `pageToken`. */
export function page<T>(items: readonly T[], query: URLSearchParams): { items: T[]; nextPageToken?: string } {
  const max = Math.min(500, Math.max(1, Number(query.get('maxResults') ?? 500) || 500));
  const token = query.get('pageToken');
  let offset = 0;
  if (token) {
    offset = Number(
      Buffer.from(token, 'base64url')
        .toString('utf8')
        .replace(/^offset:/, ''),
    );
    if (!Number.isInteger(offset) || offset < 0)
      throw new FakeApiError(
        400,
        'invalid',
        `Invalid value for field 'pageToken': '${token}'. Supplied fingerprint does not match current list state.`,
      );
  }
  const slice = items.slice(offset, offset + max);
  const next = offset + max < items.length ? Buffer.from(`offset:${offset + max}`).toString('base64url') : undefined;
  return { items: slice, ...(next ? { nextPageToken: next } : {}) };
}

/** A zonal list answer: `{ kind, id, items?, nextPageToken?, selfLink }`. */
export function listReply(
  kind: string,
  id: string,
  selfLink: string,
  views: Array<Record<string, unknown>>,
  query: URLSearchParams,
) {
  const terms = parseFilter(query.get('filter'));
  const paged = page(
    views.filter((v) => matches(v, terms)),
    query,
  );
  return {
    kind,
    id,
    ...(paged.items.length ? { items: paged.items } : {}),
    ...(paged.nextPageToken ? { nextPageToken: paged.nextPageToken } : {}),
    selfLink,
  };
}

/** An aggregated list answer: `items` keyed by `zones/ZONE`, with GCE's NO_RESULTS_ON_PAGE warning for empty scopes. */
export function aggregatedReply(
  kind: string,
  key: string,
  id: string,
  selfLink: string,
  zones: readonly string[],
  views: Array<{ zone: string; view: Record<string, unknown> }>,
  query: URLSearchParams,
) {
  const terms = parseFilter(query.get('filter'));
  const paged = page(
    views.filter((v) => matches(v.view, terms)),
    query,
  );
  const items: Record<string, unknown> = {};
  for (const zone of zones) {
    const here = paged.items.filter((v) => v.zone === zone).map((v) => v.view);
    const scope = `zones/${zone}`;
    items[scope] =
      here.length > 0
        ? { [key]: here }
        : {
            warning: {
              code: 'NO_RESULTS_ON_PAGE',
              message: `There are no results for scope '${scope}' on this page.`,
              data: [{ key: 'scope', value: scope }],
            },
          };
  }
  return { kind, id, items, ...(paged.nextPageToken ? { nextPageToken: paged.nextPageToken } : {}), selfLink };
}
