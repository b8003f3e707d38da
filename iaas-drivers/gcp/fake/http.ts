import type { IncomingMessage, ServerResponse } from 'node:http';

/** Canonical status names Google's JSON error bodies carry, by HTTP status. */
const CANONICAL: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  405: 'INVALID_ARGUMENT',
  409: 'ALREADY_EXISTS',
  412: 'FAILED_PRECONDITION',
  413: 'INVALID_ARGUMENT',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
};

/** A Compute API error the fake answers, in Google's words: `{ error: { code, message, errors: [{ reason, domain, message }], status } }`. */
export class FakeApiError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
    readonly domain = 'global',
    readonly headers: Record<string, string> = {},
    readonly extra: Record<string, string> = {},
  ) {
    super(message);
  }

  body(): unknown {
    return {
      error: {
        code: this.status,
        message: this.message,
        errors: [{ message: this.message, domain: this.domain, reason: this.reason, ...this.extra }],
        status: CANONICAL[this.status] ?? (this.status >= 500 ? 'INTERNAL' : 'UNKNOWN'),
      },
    };
  }
}

export function notFound(resource: string): FakeApiError {
  return new FakeApiError(404, 'notFound', `The resource '${resource}' was not found`);
}

export function alreadyExists(resource: string): FakeApiError {
  return new FakeApiError(409, 'alreadyExists', `The resource '${resource}' already exists`);
}

export function invalid(field: string, value: unknown, why: string): FakeApiError {
  return new FakeApiError(
    400,
    'invalid',
    `Invalid value for field '${field}': '${typeof value === 'string' ? value : JSON.stringify(value ?? '')}'. ${why}`,
  );
}

export function required(field: string): FakeApiError {
  return new FakeApiError(400, 'required', `Required field '${field}' not specified`);
}

export function inUse(resource: string, user: string): FakeApiError {
  return new FakeApiError(
    400,
    'resourceInUseByAnotherResource',
    `The disk resource '${resource}' is already being used by '${user}'`,
  );
}

export function notReady(resource: string): FakeApiError {
  return new FakeApiError(400, 'resourceNotReady', `The resource '${resource}' is not ready`);
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json; charset=UTF-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

export function sendText(res: ServerResponse, status: number, text: string, headers: Record<string, string>): void {
  res.writeHead(status, { ...headers, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** The HTML error page Google's front ends answer for paths no API serves (and the metadata server for its refusals). */
export function googleErrorPage(status: number, text: string): string {
  const title = status === 404 ? 'Not Found' : status === 403 ? 'Forbidden' : 'Error';
  return `<!DOCTYPE html>\n<html lang=en>\n  <meta charset=utf-8>\n  <title>Error ${status} (${title})!!1</title>\n  <p><b>${status}.</b> <ins>That’s an error.</ins>\n  <p>${text}  <ins>That’s all we know.</ins>\n`;
}

export async function readBody(req: IncomingMessage, limit = 1 << 20): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new FakeApiError(413, 'invalid', 'Request payload size exceeds the limit: 1048576 bytes.');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const raw = await readBody(req);
  if (raw.length === 0) return {};
  try {
    const parsed = JSON.parse(raw.toString('utf8')) as unknown;
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
    // Google's client libraries send `""` as the body of a POST that has none (zoneOperations.wait).
    if (parsed === '' || parsed === null) return {};
  } catch {
    // answered below
  }
  throw new FakeApiError(400, 'parseError', 'Invalid JSON payload received. Unexpected token.');
}
