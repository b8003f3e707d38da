import type { IncomingMessage, ServerResponse } from 'node:http';

/** Harbor's error codes (src/lib/errors), by HTTP status. */
const CODES: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  409: 'CONFLICT',
  412: 'PRECONDITION_FAILED',
  413: 'REQUEST_ENTITY_TOO_LARGE',
  429: 'TOO_MANY_REQUESTS',
  500: 'UNKNOWN',
  503: 'SERVICE_UNAVAILABLE',
};

/** An error the fake answers as Harbor's core does: `{"errors":[{"code","message"}]}`. */
export class HarborHttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code = CODES[status] ?? 'UNKNOWN',
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    ...(text ? { 'content-type': 'application/json' } : {}),
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

export function sendError(res: ServerResponse, error: HarborHttpError, requestId: string): void {
  sendJson(
    res,
    error.status,
    { errors: [{ code: error.code, message: error.message }] },
    { ...error.headers, 'x-request-id': requestId },
  );
}

export async function readJson(req: IncomingMessage, limit = 1 << 20): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new HarborHttpError(413, 'the request body is too large');
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return {};
  try {
    const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // answered below
  }
  throw new HarborHttpError(400, 'invalid JSON in the request body');
}
