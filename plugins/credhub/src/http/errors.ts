import type { Context } from 'hono';
import { randomUUID } from 'node:crypto';
import { SlipwayError, type Logger } from '@slipway/contracts';

/** CredHub's message for a body or path it cannot read. */
export const BAD_REQUEST =
  'The request could not be fulfilled because the request path or body did not meet expectation. Please check the documentation for required formatting and retry your request.';
const INTERNAL = 'An application error occurred. Please contact your CredHub administrator.';

/**
 * Errors in CredHub's shape: `{ "error": message }` with the code's status; 401 in the OAuth2 bearer
 * shape (`error`, `error_description`) with a WWW-Authenticate header, as CredHub's resource server.
 * A Slipway error also carries its code and hint; anything else is an internal error without details.
 */
export function errorResponse(c: Context, error: unknown, logger?: Pick<Logger, 'error'>): Response {
  if (!SlipwayError.is(error) || error.code === 'Internal') {
    // The answer carries an id only; the log has the details under the same id.
    const errorId = randomUUID();
    logger?.error('internal error in the CredHub API', {
      error_id: errorId,
      method: c.req.method,
      path: c.req.path.slice(0, 200),
      error: error instanceof Error ? (error.stack ?? error.message) : String(error),
    });
    return c.json({ error: `${INTERNAL} (error id ${errorId})`, error_id: errorId }, 500);
  }
  if (error.code === 'Unauthenticated') {
    c.header(
      'WWW-Authenticate',
      `Bearer error="invalid_token", error_description="${error.message.replace(/"/g, "'")}"`,
    );
    return c.json({ error: 'invalid_token', error_description: error.message }, 401);
  }
  const status = error.status as 400 | 403 | 404 | 409 | 500 | 501 | 503;
  return c.json(
    {
      error: error.message,
      code: error.code,
      hint: error.hint,
      ...(error.field ? { field: error.field } : {}),
      ...(error.details ? { details: error.details } : {}),
    },
    status,
  );
}

/** The JSON body, or a 400 in CredHub's words. */
export async function jsonBody(c: Context): Promise<Record<string, unknown>> {
  let body: unknown;
  const text = await c.req.text();
  if (tooDeep(text))
    throw new SlipwayError('InvalidInput', `The request body nests deeper than ${MAX_DEPTH} levels.`, {
      field: 'body',
    });
  try {
    body = JSON.parse(text);
  } catch {
    throw new SlipwayError('InvalidInput', BAD_REQUEST, { field: 'body' });
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new SlipwayError('InvalidInput', BAD_REQUEST, { field: 'body' });
  return body as Record<string, unknown>;
}

const MAX_DEPTH = 32;

/** Whether a JSON text nests arrays or objects deeper than MAX_DEPTH; scanned before JSON.parse builds it. */
function tooDeep(text: string): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 92) i++;
      else if (ch === 34) inString = false;
    } else if (ch === 34) inString = true;
    else if ((ch === 123 || ch === 91) && ++depth > MAX_DEPTH) return true;
    else if (ch === 125 || ch === 93) depth--;
  }
  return false;
}

/** Rejects fields CredHub does not know, as CredHub does (a typo must not pass silently). */
export function onlyFields(body: Record<string, unknown>, allowed: readonly string[]): void {
  for (const key of Object.keys(body)) {
    if (!allowed.includes(key)) {
      throw new SlipwayError(
        'InvalidInput',
        `The request includes an unrecognized parameter '${key}'. Please update or remove this parameter and retry your request.`,
        { field: key },
      );
    }
  }
}

export function missingQuery(name: string): SlipwayError {
  return new SlipwayError('InvalidInput', `The query parameter ${name} is required for this request.`, { field: name });
}

export function invalidQuery(name: string): SlipwayError {
  return new SlipwayError('InvalidInput', `The query parameter ${name} was not valid for this request.`, {
    field: name,
  });
}
