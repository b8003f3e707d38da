import type { IncomingMessage, ServerResponse } from 'node:http';

/** The API families the fake serves; each shapes its error bodies its own way. */
export type FakeService = 'identity' | 'compute' | 'volume' | 'image' | 'metadata';

/** An error the fake answers, in the words of the real service. */
export class FakeHttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** Nova/Cinder fault name (`itemNotFound`); derived from the status when absent. */
    readonly kind?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** Nova's and Cinder's `_fault_names` table: the JSON key of an error body per status. */
const FAULT_NAMES: Record<number, string> = {
  400: 'badRequest',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'itemNotFound',
  405: 'badMethod',
  409: 'conflictingRequest',
  413: 'overLimit',
  415: 'badMediaType',
  429: 'overLimit',
  501: 'notImplemented',
  503: 'serviceUnavailable',
};

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  413: 'Request Entity Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
};

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    ...(text
      ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }
      : { 'content-length': 0 }),
  });
  res.end(text);
}

export function sendText(
  res: ServerResponse,
  status: number,
  text: string,
  contentType = 'text/plain; charset=utf-8',
): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * Writes an error as the service would: Keystone `{"error": {code, title, message}}`, Nova and Cinder
 * `{"<faultName>": {code, message}}` (+ `retryAfter` on 413/429), Glance a webob HTML page.
 */
export function sendError(res: ServerResponse, service: FakeService, error: FakeHttpError, requestId: string): void {
  const headers: Record<string, string> = { ...error.headers, 'x-openstack-request-id': requestId };
  const reason = REASONS[error.status] ?? 'Error';
  switch (service) {
    case 'identity':
      sendJson(res, error.status, { error: { code: error.status, title: reason, message: error.message } }, headers);
      return;
    case 'compute':
    case 'volume': {
      const kind = error.kind ?? FAULT_NAMES[error.status] ?? 'computeFault';
      const retryAfter = error.headers['retry-after'];
      const body = {
        [kind]: { code: error.status, message: error.message, ...(retryAfter !== undefined ? { retryAfter } : {}) },
      };
      if (service === 'compute') headers['x-compute-request-id'] = requestId;
      sendJson(res, error.status, body, headers);
      return;
    }
    case 'image':
    case 'metadata': {
      const html = `<html>\n <head>\n  <title>${error.status} ${reason}</title>\n </head>\n <body>\n  <h1>${error.status} ${reason}</h1>\n  ${escapeHtml(error.message)}<br /><br />\n\n\n\n </body>\n</html>`;
      res.writeHead(error.status, {
        ...headers,
        'content-type': 'text/html; charset=UTF-8',
        'content-length': Buffer.byteLength(html),
      });
      res.end(html);
      return;
    }
  }
}

export async function readBody(req: IncomingMessage, limit = 1 << 20): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new FakeHttpError(413, 'Request is too large.');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Parses a JSON request body the way the services complain about a bad one. */
export async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const raw = await readBody(req);
  if (raw.length === 0) return {};
  try {
    const parsed = JSON.parse(raw.toString('utf8')) as unknown;
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // answered below
  }
  throw new FakeHttpError(400, 'Malformed request body');
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
