import { createHash } from 'node:crypto';

/**
 * Slipway metadata as GCE labels. Labels allow only lowercase letters, digits, `_` and `-` (keys start with
 * a letter), at most 63 characters each, so keys and values are escaped reversibly:
 *
 * - `a-z`, `0-9` and `-` stay as they are;
 * - every other character becomes `_` and the two lowercase hex digits of each of its UTF-8 bytes
 *   (`.` -> `_2e`, `_` -> `_5f`, `A` -> `_41`, `/` -> `_2f`, space -> `_20`);
 * - a key that would not start with a letter gets the prefix `k__`;
 * - a result longer than 63 characters is cut and ends in `__` plus 8 hex digits of the original's SHA-256;
 *   it reads back with a trailing `…` and still matches a filter on the original value.
 *
 * `__` never appears in an escaped text (every `_` is followed by two hex digits), so the markers are
 * unambiguous. Examples: `slipway.cluster_uuid` -> `slipway_2ecluster_5fuuid`, `worker/3` -> `worker_2f3`;
 * a UUID value is unchanged. `gcloud compute instances list --filter 'labels.slipway_2ecluster=prod'`.
 */
export const LABEL_MAX = 63;

const PLAIN = /[a-z0-9-]/;
const TRUNCATED = /__([0-9a-f]{8})$/;
const KEY_PREFIX = 'k__';

export function encodeLabelKey(key: string): string {
  const escaped = escape(key);
  return shorten(/^[a-z]/.test(escaped) ? escaped : KEY_PREFIX + escaped, key);
}

export function encodeLabelValue(value: string): string {
  return shorten(escape(value), value);
}

/** Reads a label back; labels this driver did not write (`goog-...`) come back as they are. */
export function decodeLabel(text: string, isKey: boolean): string {
  let body = isKey && text.startsWith(KEY_PREFIX) ? text.slice(KEY_PREFIX.length) : text;
  const truncated = TRUNCATED.exec(body);
  if (truncated) body = body.slice(0, truncated.index);
  const bytes: number[] = [];
  for (let i = 0; i < body.length; i++) {
    const hex = body[i] === '_' ? /^[0-9a-f]{2}/.exec(body.slice(i + 1))?.[0] : undefined;
    if (hex) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(body[i]!, 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8') + (truncated ? '…' : '');
}

export function labelsOf(metadata: Record<string, string | undefined>): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const [key, value] of Object.entries(metadata))
    if (value !== undefined) labels[encodeLabelKey(key)] = encodeLabelValue(value);
  return labels;
}

export function metadataOf(labels: Record<string, string> | undefined): Record<string, string> {
  const metadata: Record<string, string> = {};
  for (const [key, value] of Object.entries(labels ?? {})) metadata[decodeLabel(key, true)] = decodeLabel(value, false);
  return metadata;
}

/** A list filter that keeps resources carrying every tag: `(labels.K = "V") AND (...)`. */
export function labelFilter(tags: Record<string, string>): string | undefined {
  const terms = Object.entries(labelsOf(tags)).map(([key, value]) => `(labels.${key} = "${value}")`);
  return terms.length > 0 ? terms.join(' AND ') : undefined;
}

function escape(text: string): string {
  let out = '';
  for (const char of text) {
    if (PLAIN.test(char)) {
      out += char;
    } else {
      for (const byte of Buffer.from(char, 'utf8')) out += `_${byte.toString(16).padStart(2, '0')}`;
    }
  }
  return out;
}

function shorten(escaped: string, original: string): string {
  if (escaped.length <= LABEL_MAX) return escaped;
  const suffix = `__${createHash('sha256').update(original).digest('hex').slice(0, 8)}`;
  let cut = LABEL_MAX - suffix.length;
  // Never split an escape: back up to before a `_` that lost one of its two hex digits.
  const underscore = escaped.lastIndexOf('_', cut - 1);
  if (underscore >= 0 && underscore > cut - 3) cut = underscore;
  return escaped.slice(0, cut) + suffix;
}
