import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { SlipwayError } from '@slipway/contracts';
import { problemResponse } from './problem.js';

/** Body limits by route: a login is a few hundred bytes; nothing the API takes needs more than a megabyte. */
export const BODY_LIMITS = {
  token: 8 * 1024,
  default: 1024 * 1024,
} as const;

/** How deep a JSON body may nest: the deepest schema is four levels; 32 leaves room without risk. */
export const MAX_JSON_DEPTH = 32;

/** Refuses a body over `maxSize` bytes with a 413 naming the limit, before it is buffered past the limit. */
export function limitBody(maxSize: number): MiddlewareHandler {
  return bodyLimit({
    maxSize,
    onError: (c: Context) =>
      problemResponse(
        c,
        new SlipwayError('PayloadTooLarge', `the request body exceeds this route's limit of ${maxSize} bytes`, {
          details: { limit_bytes: maxSize },
          hint: `Send at most ${maxSize} bytes.`,
        }),
      ),
  });
}

/**
 * Throws InvalidInput when `text` nests arrays or objects deeper than `max`. A scan of the text, so a
 * hostile body is refused before JSON.parse builds it.
 */
export function checkJsonDepth(text: string, max = MAX_JSON_DEPTH): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 92)
        i++; // backslash: skip the escaped character
      else if (ch === 34) inString = false;
    } else if (ch === 34) inString = true;
    else if (ch === 123 || ch === 91) {
      if (++depth > max)
        throw new SlipwayError('InvalidInput', `the JSON body nests deeper than ${max} levels`, {
          field: 'body',
          hint: 'Send a flatter document.',
        });
    } else if (ch === 125 || ch === 93) depth--;
  }
}
