import type { Context } from 'hono';
import { ERROR_CODES, SlipwayError } from '@slipway/contracts';

/** RFC 9457 problem+json from a SlipwayError: the code, the field at fault and what to do. */
export function problemResponse(c: Context, error: unknown): Response {
  const err = SlipwayError.from(error);
  const status = ERROR_CODES[err.code]?.status ?? 500;
  const body = {
    type: `https://slipway.dev/errors/${err.code}`,
    title: err.code,
    status,
    detail: err.message,
    code: err.code,
    ...(err.field ? { field: err.field } : {}),
    hint: err.hint,
    ...(err.details ? { details: err.details } : {}),
  };
  const headers: Record<string, string> = { 'content-type': 'application/problem+json' };
  if (err.retryAfterMs) headers['retry-after'] = String(Math.ceil(err.retryAfterMs / 1000));
  if (err.code === 'Unauthenticated') headers['www-authenticate'] = 'Bearer realm="slipway"';
  return c.body(JSON.stringify(body), status as 400, headers);
}
