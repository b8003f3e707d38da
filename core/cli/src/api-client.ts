import type { IncomingMessage } from 'node:http';
import { Agent, request } from 'node:https';
import { ApiError, CliError, type Problem } from './errors.js';

export interface ApiClientOptions {
  /** `https://host:port` */
  baseUrl: string;
  /** PEM of the CA that signed the API's certificate; absent: the system's CAs. */
  ca?: string | Buffer;
  /** `-k`: accept any certificate. */
  insecure?: boolean;
  token?: string;
  timeoutMs?: number;
}

export interface ApiResponse<T> {
  status: number;
  body: T;
  headers: Record<string, string | string[] | undefined>;
}

/** TLS failures people hit with a self-signed control plane, and what to pass instead. */
const TLS_HINTS: Record<string, string> = {
  SELF_SIGNED_CERT_IN_CHAIN:
    'The API uses its own CA: pass --ca-cert $SLIPWAY_HOME/ca.pem to slipway login (or -k to skip verification).',
  DEPTH_ZERO_SELF_SIGNED_CERT:
    'The API uses a self-signed certificate: pass --ca-cert FILE to slipway login (or -k to skip verification).',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    'The API certificate is not signed by a CA this CLI trusts: pass --ca-cert FILE to slipway login.',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    'The API certificate is not signed by a CA this CLI trusts: pass --ca-cert FILE to slipway login.',
  CERT_HAS_EXPIRED: "The API's certificate has expired; ask the operator to renew it.",
  ERR_TLS_CERT_ALTNAME_INVALID:
    'The certificate does not name this host: log in with the address the certificate was issued for.',
};

/**
 * The Slipway REST API over node:https: the given CA (or none with -k) on every call, a bearer token,
 * problem+json errors turned into ApiError with the API's detail and hint. One keep-alive agent per
 * client; `close()` releases its sockets.
 */
export class ApiClient {
  readonly baseUrl: string;
  private readonly agent: Agent;
  private readonly token?: string;
  private readonly timeoutMs: number;

  constructor(options: ApiClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.token = options.token;
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.agent = new Agent({ keepAlive: true, ca: options.ca, rejectUnauthorized: !options.insecure });
  }

  get<T>(path: string): Promise<T> {
    return this.call<T>('GET', path).then((r) => r.body);
  }
  post<T>(path: string, body?: unknown): Promise<T> {
    return this.call<T>('POST', path, body).then((r) => r.body);
  }
  patch<T>(path: string, body: unknown): Promise<T> {
    return this.call<T>('PATCH', path, body).then((r) => r.body);
  }
  delete<T>(path: string): Promise<T> {
    return this.call<T>('DELETE', path).then((r) => r.body);
  }

  /** A form-encoded POST (the OAuth token endpoint). */
  postForm<T>(path: string, form: Record<string, string>): Promise<T> {
    return this.call<T>('POST', path, new URLSearchParams(form).toString(), 'application/x-www-form-urlencoded').then(
      (r) => r.body,
    );
  }

  async call<T>(
    method: string,
    path: string,
    body?: unknown,
    contentType = 'application/json',
  ): Promise<ApiResponse<T>> {
    const url = new URL(path, `${this.baseUrl}/`);
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const headers: Record<string, string> = {
      accept: 'application/json, application/problem+json',
      'user-agent': 'slipway-cli',
    };
    if (payload !== undefined) {
      headers['content-type'] = contentType;
      headers['content-length'] = String(Buffer.byteLength(payload));
    }
    if (this.token) headers.authorization = `Bearer ${this.token}`;

    const { status, text, responseHeaders } = await new Promise<{
      status: number;
      text: string;
      responseHeaders: Record<string, string | string[] | undefined>;
    }>((ok, fail) => {
      const req = request(url, { method, headers, agent: this.agent, timeout: this.timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          ok({
            status: res.statusCode ?? 0,
            text: Buffer.concat(chunks).toString('utf8'),
            responseHeaders: res.headers,
          }),
        );
        res.on('error', fail);
      });
      req.on('timeout', () =>
        req.destroy(Object.assign(new Error(`no answer within ${this.timeoutMs / 1000}s`), { code: 'ETIMEDOUT' })),
      );
      req.on('error', (e) => fail(this.connectionError(e as NodeJS.ErrnoException)));
      if (payload !== undefined) req.write(payload);
      req.end();
    });

    let parsed: unknown;
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        if (status >= 400)
          throw new ApiError({ status, detail: `${method} ${url.pathname} answered ${status}: ${text.slice(0, 200)}` });
        throw new CliError(
          `${method} ${url.pathname} answered ${status} with a body that is not JSON`,
          `Is ${this.baseUrl} a Slipway API?`,
        );
      }
    }
    if (status >= 400) {
      const problem = (parsed && typeof parsed === 'object' ? parsed : {}) as Partial<Problem>;
      throw new ApiError({
        ...problem,
        status,
        detail: problem.detail ?? `${method} ${url.pathname} answered ${status}`,
      });
    }
    return { status, body: parsed as T, headers: responseHeaders };
  }

  /**
   * Opens a long-lived GET (Server-Sent Events) and resolves with the response once its headers arrive;
   * an error answer is thrown as ApiError. No timeout once open: the server's heartbeats keep it alive.
   */
  async openStream(path: string, headers: Record<string, string>, signal?: AbortSignal): Promise<IncomingMessage> {
    const url = new URL(path, `${this.baseUrl}/`);
    const all: Record<string, string> = { accept: 'text/event-stream', 'user-agent': 'slipway-cli', ...headers };
    if (this.token) all.authorization = `Bearer ${this.token}`;
    const res = await new Promise<IncomingMessage>((ok, fail) => {
      const req = request(
        url,
        { method: 'GET', headers: all, agent: this.agent, signal, timeout: this.timeoutMs },
        (r) => {
          req.setTimeout(0);
          ok(r);
        },
      );
      req.on('timeout', () =>
        req.destroy(Object.assign(new Error(`no answer within ${this.timeoutMs / 1000}s`), { code: 'ETIMEDOUT' })),
      );
      req.on('error', (e) => fail(signal?.aborted ? e : this.connectionError(e as NodeJS.ErrnoException)));
      req.end();
    });
    if ((res.statusCode ?? 0) >= 400) {
      const chunks: Buffer[] = [];
      for await (const c of res) chunks.push(c as Buffer);
      let problem: Partial<Problem> = {};
      try {
        problem = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Partial<Problem>;
      } catch {
        /* not a problem document */
      }
      throw new ApiError({
        ...problem,
        status: res.statusCode ?? 0,
        detail: problem.detail ?? `GET ${url.pathname} answered ${res.statusCode}`,
      });
    }
    return res;
  }

  close(): void {
    this.agent.destroy();
  }

  private connectionError(e: NodeJS.ErrnoException): CliError {
    const code = e.code ?? '';
    if (TLS_HINTS[code])
      return new CliError(`cannot verify the TLS certificate of ${this.baseUrl}: ${e.message}`, TLS_HINTS[code]);
    if (code === 'ECONNREFUSED')
      return new CliError(
        `cannot reach ${this.baseUrl}: connection refused`,
        'Is the control plane running (slipway up)? Check the URL and port.',
      );
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN')
      return new CliError(`cannot resolve the host of ${this.baseUrl}`, 'Check the API address you logged in with.');
    if (code === 'ETIMEDOUT')
      return new CliError(
        `${this.baseUrl} did not answer: ${e.message}`,
        'Check the network path to the API, then retry.',
      );
    if (code === 'EPROTO' || /wrong version number/i.test(e.message))
      return new CliError(
        `${this.baseUrl} does not speak TLS: ${e.message}`,
        'The Slipway API is served over https; check the port.',
      );
    return new CliError(
      `request to ${this.baseUrl} failed: ${e.message}${code ? ` (${code})` : ''}`,
      'Check the API address and retry.',
    );
  }
}
