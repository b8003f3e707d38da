import type { IncomingMessage, ServerResponse } from 'node:http';

/** An ARM error the fake answers: `{ error: { code, message, target? } }` with the HTTP status. */
export class ArmHttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
    readonly target?: string,
  ) {
    super(message);
  }

  body(): { error: { code: string; message: string; target?: string } } {
    return { error: { code: this.code, message: this.message, ...(this.target ? { target: this.target } : {}) } };
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
    ...(text
      ? { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) }
      : { 'content-length': 0 }),
  });
  res.end(text);
}

export async function readBody(req: IncomingMessage, limit = 1 << 20): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit)
      throw new ArmHttpError(413, 'RequestEntityTooLarge', 'The request content size exceeds the maximum allowed.');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Parses a JSON request body the way ARM complains about a bad one. */
export async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const raw = await readBody(req);
  if (raw.length === 0) return {};
  try {
    const parsed = JSON.parse(raw.toString('utf8')) as unknown;
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // answered below
  }
  throw new ArmHttpError(
    400,
    'InvalidRequestContent',
    'The request content was invalid and could not be deserialized.',
  );
}

/** A JSON object field of a request body, or {} when absent. */
export function objectAt(value: unknown): Record<string, unknown> {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

export function stringTags(value: unknown, target = 'tags'): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, v] of Object.entries(objectAt(value))) {
    if (/[<>%&\\?/]/.test(key)) {
      throw new ArmHttpError(
        400,
        'InvalidTagNameCharacters',
        `The tag names '${key}' have reserved characters '<,>,%,&,\\,?,/' or control characters.`,
        {},
        target,
      );
    }
    if (typeof v !== 'string')
      throw new ArmHttpError(400, 'InvalidRequestContent', `The tag value of '${key}' must be a string.`, {}, target);
    if (key.length > 512 || v.length > 256)
      throw new ArmHttpError(
        400,
        'InvalidTagName',
        `The tag '${key}' exceeds the maximum length (512 for names, 256 for values).`,
        {},
        target,
      );
    out[key] = v;
  }
  if (Object.keys(out).length > 50)
    throw new ArmHttpError(400, 'InvalidTagCount', 'The resource has more than 50 tags.', {}, target);
  return out;
}

export function isBase64(value: string): boolean {
  return /^[A-Za-z0-9+/]*={0,2}$/.test(value) && value.length % 4 === 0;
}
