import { isIPv4 } from 'node:net';
import { FakeApiError, invalid } from './http.js';

/** GCE's resource-name rule (RFC 1035 label). */
export const NAME = /^[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?$/;
const NAME_SOURCE = '[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?';

const LABEL_KEY = /^[\p{Ll}\p{Lo}][\p{Ll}\p{Lo}\p{N}_-]{0,62}$/u;
const LABEL_VALUE = /^[\p{Ll}\p{Lo}\p{N}_-]{0,63}$/u;
const MAX_LABELS = 64;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function checkName(value: unknown, field = 'resource.name'): string {
  if (typeof value !== 'string' || !NAME.test(value))
    throw invalid(field, value, `Must be a match of regex '${NAME_SOURCE}'`);
  return value;
}

/** Labels as GCE checks them: at most 64; keys start with a lowercase letter; lowercase letters, digits, `_`, `-`; 63 characters. */
export function checkLabels(value: unknown, field = 'resource.labels'): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value))
    throw invalid(field, value, 'Labels must be a map of strings.');
  const labels = value as Record<string, unknown>;
  if (Object.keys(labels).length > MAX_LABELS)
    throw invalid(field, '', `Labels has ${Object.keys(labels).length} entries; at most ${MAX_LABELS} are allowed.`);
  for (const [key, label] of Object.entries(labels)) {
    if (!LABEL_KEY.test(key)) {
      throw invalid(
        field,
        '',
        `Label key '${key}' violates format constraints. The key must start with a lowercase character, can only contain lowercase letters, numeric characters, underscores and dashes. The key can be at most 63 characters long. International characters are allowed.`,
      );
    }
    if (typeof label !== 'string' || !LABEL_VALUE.test(label)) {
      throw invalid(
        field,
        '',
        `Label value '${String(label)}' violates format constraints. The value can only contain lowercase letters, numeric characters, underscores and dashes. The value can be at most 63 characters long. International characters are allowed.`,
      );
    }
  }
  return labels as Record<string, string>;
}

/** GCE's requestId: a UUID other than the zero UUID. */
export function checkRequestId(value: string | null): string | undefined {
  if (value === null || value === '') return undefined;
  if (!UUID.test(value) || /^[0-]+$/.test(value)) {
    throw invalid(
      'requestId',
      value,
      'The request id must be a valid UUID with the exception that zero UUID is not supported (00000000-0000-0000-0000-000000000000).',
    );
  }
  return value.toLowerCase();
}

export function checkIp(value: unknown, field: string): string {
  if (typeof value !== 'string' || !isIPv4(value)) throw invalid(field, value, 'Must be a valid IPv4 address.');
  return value;
}

/** Instance metadata items: keys of letters, digits, `-` and `_` up to 128 characters; 512 KB in all. */
export function checkMetadataItems(value: unknown): Array<{ key: string; value: string }> {
  if (value === undefined || value === null) return [];
  const items = (value as { items?: unknown }).items;
  if (items === undefined) return [];
  if (!Array.isArray(items)) throw invalid('resource.metadata.items', items, 'Must be a list of key/value pairs.');
  let total = 0;
  const seen = new Set<string>();
  const out: Array<{ key: string; value: string }> = [];
  items.forEach((item: { key?: unknown; value?: unknown }, index) => {
    if (typeof item?.key !== 'string' || !/^[a-zA-Z0-9_-]{1,128}$/.test(item.key)) {
      throw invalid(
        `resource.metadata.items[${index}].key`,
        item?.key,
        "Must be a match of regex '[a-zA-Z0-9-_]{1,128}'",
      );
    }
    if (seen.has(item.key)) throw invalid('resource.metadata', '', `Metadata has duplicate keys: ${item.key}.`);
    seen.add(item.key);
    const text = item.value === undefined || item.value === null ? '' : String(item.value);
    if (Buffer.byteLength(text) > 256 * 1024)
      throw invalid(`resource.metadata.items[${index}].value`, '', 'Metadata value is longer than 262144 bytes.');
    total += Buffer.byteLength(text) + item.key.length;
    out.push({ key: item.key, value: text });
  });
  if (total > 512 * 1024)
    throw new FakeApiError(
      400,
      'invalid',
      "Invalid value for field 'resource.metadata': ''. Metadata is longer than 524288 bytes.",
    );
  return out;
}

/** The `zones/Z/KIND/NAME` (or `projects/P/...`) a reference names, if it does. */
export function parseReference(
  value: unknown,
  kind: string,
): { project?: string; zone?: string; region?: string; name: string } | undefined {
  if (typeof value !== 'string') return undefined;
  const match = new RegExp(
    `(?:projects/([^/]+)/)?(?:(?:zones/([^/]+)|regions/([^/]+)|global)/)?${kind}/([^/?]+)$`,
  ).exec(value);
  if (!match) return undefined;
  return {
    ...(match[1] ? { project: match[1] } : {}),
    ...(match[2] ? { zone: match[2] } : {}),
    ...(match[3] ? { region: match[3] } : {}),
    name: match[4]!,
  };
}
