import { Agent } from 'undici';
import { SlipwayError } from '@slipway/contracts';
import { PLUGIN, faultToError, readFault, transportError } from './errors.js';

export const POLICY_BASE = '/policy/api/v1';

/** What the client authenticates with, read from the credential store. */
export type NsxtCredentials =
  | { mode: 'basic' | 'session'; username: string; password: string }
  | { mode: 'certificate'; certificate: string; privateKey: string };

export interface RequestOptions {
  /** A name for the call in errors and logs (`patchInfra`, `getRealizedEntities`). */
  operation: string;
  method?: 'GET' | 'PUT' | 'PATCH' | 'DELETE' | 'POST';
  /** Below /policy/api/v1, starting with `/`. */
  path: string;
  query?: Record<string, string | undefined>;
  json?: unknown;
  signal?: AbortSignal;
  /** Answer undefined on a 404 (reads of what may not exist, deletes). */
  notFoundOk?: boolean;
}

interface Session {
  cookie: string;
  xsrf: string;
}

/**
 * The Policy API over fetch. One request per call: the engine, not the driver, retries. The only resend is
 * a session re-login: a 401/403 on a session the driver holds means NSX expired it (idle timeout, manager
 * restart), so the client logs in again and sends the request once more; a second refusal is final.
 */
export class PolicyClient {
  private session: Promise<Session> | undefined;
  private readonly dispatcher: Agent;
  private readonly base: string;

  constructor(
    managerUrl: string,
    private readonly credentials: NsxtCredentials,
    caPem: string | undefined,
    private readonly timeoutMs: number,
  ) {
    this.base = managerUrl.replace(/\/+$/, '');
    const connect: Record<string, unknown> = {};
    if (caPem) connect.ca = caPem;
    if (credentials.mode === 'certificate')
      Object.assign(connect, { cert: credentials.certificate, key: credentials.privateKey });
    this.dispatcher = new Agent({ connect, keepAliveTimeout: 30_000, connections: 16 });
  }

  async request<T>(options: RequestOptions): Promise<T | undefined> {
    if (options.signal?.aborted) throw transportError(options.signal.reason, options.operation, options.signal);
    for (let attempt = 0; ; attempt++) {
      const held = this.credentials.mode === 'session' ? this.login(options.signal) : undefined;
      const session = held ? await held : undefined;
      const url = new URL(this.base + POLICY_BASE + options.path);
      for (const [key, value] of Object.entries(options.query ?? {}))
        if (value !== undefined) url.searchParams.set(key, value);
      const headers: Record<string, string> = { accept: 'application/json', ...this.authHeaders(session) };
      if (options.json !== undefined) headers['content-type'] = 'application/json';
      const body = options.json === undefined ? undefined : JSON.stringify(options.json);
      const response = await this.send(url, { method: options.method ?? 'GET', headers, body }, options);
      if (session && (response.status === 401 || response.status === 403) && attempt === 0) {
        await response.body?.cancel().catch(() => undefined);
        // Only the session this request used is dropped: concurrent requests refused together log in once.
        if (this.session === held) this.session = undefined;
        continue;
      }
      if (response.status === 404 && options.notFoundOk) {
        await response.body?.cancel().catch(() => undefined);
        return undefined;
      }
      if (!response.ok) throw faultToError(await readFault(response, options.operation));
      const text = await response.text().catch((error: unknown) => {
        throw transportError(error, options.operation, options.signal);
      });
      if (!text) return {} as T;
      try {
        return JSON.parse(text) as T;
      } catch (error) {
        throw new SlipwayError(
          'CloudError',
          `nsx ${options.operation}: ${response.status} with a body that is not JSON`,
          { plugin: PLUGIN, cause: error },
        );
      }
    }
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }

  private authHeaders(session: Session | undefined): Record<string, string> {
    switch (this.credentials.mode) {
      case 'basic':
        return {
          authorization: `Basic ${Buffer.from(`${this.credentials.username}:${this.credentials.password}`).toString('base64')}`,
        };
      case 'session':
        return { cookie: session!.cookie, 'x-xsrf-token': session!.xsrf };
      case 'certificate':
        return {};
    }
  }

  /** `POST /api/session/create` with `j_username`/`j_password`: a JSESSIONID cookie and an X-XSRF-TOKEN to echo. */
  private login(signal: AbortSignal | undefined): Promise<Session> {
    if (this.session) return this.session;
    const credentials = this.credentials as { username: string; password: string };
    const attempt = (async () => {
      const body = new URLSearchParams({
        j_username: credentials.username,
        j_password: credentials.password,
      }).toString();
      const response = await this.send(
        new URL(`${this.base}/api/session/create`),
        {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
          body,
        },
        { operation: 'createSession', signal },
      );
      if (!response.ok) throw faultToError(await readFault(response, 'createSession'));
      await response.body?.cancel().catch(() => undefined);
      const cookie = /JSESSIONID=[^;]+/.exec(response.headers.get('set-cookie') ?? '')?.[0];
      const xsrf = response.headers.get('x-xsrf-token');
      if (!cookie || !xsrf) {
        throw new SlipwayError(
          'CloudError',
          'nsx createSession: the answer carried no JSESSIONID cookie or X-XSRF-TOKEN header',
          { plugin: PLUGIN },
        );
      }
      return { cookie, xsrf };
    })();
    this.session = attempt;
    attempt.catch(() => {
      if (this.session === attempt) this.session = undefined;
    });
    return attempt;
  }

  private async send(
    url: URL,
    init: { method: string; headers: Record<string, string>; body?: string },
    options: { operation: string; signal?: AbortSignal },
  ): Promise<Response> {
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    try {
      return await fetch(url, { ...init, signal, dispatcher: this.dispatcher } as RequestInit);
    } catch (error) {
      const timedOut = timeout.aborted && !options.signal?.aborted;
      throw transportError(
        timedOut ? Object.assign(new Error('timeout'), { name: 'TimeoutError' }) : error,
        options.operation,
        options.signal,
      );
    }
  }
}
