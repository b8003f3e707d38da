import { request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent, request as httpsRequest } from 'node:https';
import { SlipwayError } from '@slipway/contracts';
import { faultToError, parseFault, PLUGIN, transportError } from './errors.js';

export interface HarborCall {
  operation: string;
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path below `/api/v2.0`, already encoded. */
  path: string;
  body?: unknown;
  signal?: AbortSignal;
  requestId?: string;
  /** Statuses that are answers rather than faults (a HEAD's 404). */
  accept?: number[];
}

export interface HarborAnswer {
  status: number;
  text: string;
  headers: IncomingMessage['headers'];
  json<T>(): T;
}

const MAX_BODY = 8 << 20;

/**
 * Harbor's REST API over node's http(s) (so a private CA can be trusted per driver, not process-wide):
 * basic auth, JSON, `X-Request-Id` from the engine's requestId, one attempt per call (the engine retries).
 */
export class HarborClient {
  private readonly base: URL;
  private readonly agent?: Agent;
  private readonly authorization: string;

  constructor(
    url: string,
    credential: { username: string; password: string },
    options: { caPem?: string; timeoutMs: number },
  ) {
    this.base = new URL('/api/v2.0/', url);
    this.authorization = `Basic ${Buffer.from(`${credential.username}:${credential.password}`).toString('base64')}`;
    if (this.base.protocol === 'https:') this.agent = new Agent({ keepAlive: true, ca: options.caPem, maxSockets: 16 });
    this.timeoutMs = options.timeoutMs;
  }

  private readonly timeoutMs: number;

  async send(call: HarborCall): Promise<HarborAnswer> {
    if (call.signal?.aborted) throw transportError(new Error('aborted'), call.operation, call.signal);
    const url = new URL(call.path.replace(/^\//, ''), this.base);
    const payload = call.body === undefined ? undefined : Buffer.from(JSON.stringify(call.body));
    const headers: Record<string, string> = {
      authorization: this.authorization,
      accept: 'application/json',
      ...(call.requestId ? { 'x-request-id': call.requestId } : {}),
      ...(payload ? { 'content-type': 'application/json', 'content-length': String(payload.length) } : {}),
    };
    const answer = await new Promise<HarborAnswer>((resolve, reject) => {
      const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
      const req = send(
        url,
        { method: call.method, headers, agent: this.agent, signal: call.signal, timeout: this.timeoutMs },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_BODY) {
              res.destroy(new Error(`answer larger than ${MAX_BODY} bytes`));
              return;
            }
            chunks.push(chunk);
          });
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            resolve({
              status: res.statusCode ?? 0,
              text,
              headers: res.headers,
              json: <T>() => parseJson<T>(text, call.operation),
            });
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.timeoutMs} ms`)));
      req.on('error', reject);
      req.end(payload);
    }).catch((error: unknown) => {
      throw transportError(error, call.operation, call.signal);
    });
    if (answer.status < 400 || call.accept?.includes(answer.status)) return answer;
    const one = (h: string | string[] | undefined) => (Array.isArray(h) ? h[0] : h);
    throw faultToError(
      parseFault(call.operation, answer.status, answer.text, {
        retryAfter: one(answer.headers['retry-after']),
        requestId: one(answer.headers['x-request-id']) ?? call.requestId,
      }),
    );
  }

  destroy(): void {
    this.agent?.destroy();
  }
}

function parseJson<T>(text: string, operation: string): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new SlipwayError('CloudError', `harbor ${operation}: the answer is not JSON: ${text.slice(0, 200)}`, {
      plugin: PLUGIN,
    });
  }
}
