import { randomUUID } from 'node:crypto';
import type { Context } from 'hono';
import { ERROR_CODES, SlipwayError, type Logger } from '@slipway/contracts';

/**
 * RFC 9457 problem+json from a SlipwayError: the code, the field at fault and what to do. An internal
 * error (a bug, or anything that is not a SlipwayError) is logged with a fresh id, and the answer carries
 * that id only: no message, no stack, nothing of the server's insides.
 */
export function problemResponse(c: Context, error: unknown, logger?: Logger): Response {
  const headers: Record<string, string> = { 'content-type': 'application/problem+json' };
  // An aborted request (the client went away) is Cancelled, as SlipwayError.from says; not a bug.
  const known = SlipwayError.is(error)
    ? error
    : (error as Error | undefined)?.name === 'AbortError'
      ? SlipwayError.from(error)
      : undefined;
  if (!known || known.code === 'Internal') {
    const errorId = randomUUID();
    logger?.error('internal error', {
      error_id: errorId,
      method: c.req.method,
      path: c.req.path.slice(0, 200),
      error: error instanceof Error ? (error.stack ?? error.message) : String(error),
    });
    const body = {
      type: 'https://slipway.dev/errors/Internal',
      title: 'Internal',
      status: 500,
      code: 'Internal',
      error_id: errorId,
      detail: `internal error ${errorId}`,
      hint: `Report it with the id ${errorId}; the server log has the details.`,
    };
    return c.body(JSON.stringify(body), 500, headers);
  }
  const err = known;
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
  if (err.retryAfterMs) headers['retry-after'] = String(Math.ceil(err.retryAfterMs / 1000));
  if (err.code === 'Unauthenticated') headers['www-authenticate'] = 'Bearer realm="slipway"';
  return c.body(JSON.stringify(body), status as 400, headers);
}
