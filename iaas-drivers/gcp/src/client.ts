import { SlipwayError } from '@slipway/contracts';
import type { ServiceAccountTokens } from './auth.js';
import { PLUGIN, faultToError, readFault, throwIfCancelled, transportError, type PermanentCode } from './errors.js';
import type { Operation } from './resources.js';

export interface RequestOptions {
  /** The REST method, named as in the API reference (`instances.insert`); errors and logs carry it. */
  method: string;
  http?: 'GET' | 'POST' | 'DELETE' | 'PATCH';
  /** Below `/compute/v1`, starting with `/projects/`. */
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  json?: unknown;
  signal?: AbortSignal;
  /** Answer `undefined` instead of throwing NotFound on a 404 (deletes, existence checks). */
  notFoundOk?: boolean;
  /** The verb's own code for a permanent refusal (a 400 on instances.insert is `VmCreationFailed`). */
  permanent?: PermanentCode;
}

/**
 * Plain-fetch client for the Compute Engine v1 REST API. Node's fetch keeps connections alive, so
 * consecutive calls reuse sockets. A 401 means the cached token was revoked or expired early: the token is
 * exchanged again and the call sent once more (a session refresh, not a retry); a second 401 is final.
 */
export class ComputeClient {
  private readonly root: string;

  constructor(
    private readonly tokens: ServiceAccountTokens,
    readonly project: string,
    endpoint: string,
  ) {
    this.root = `${endpoint.replace(/\/+$/, '')}/compute/v1`;
  }

  /** `/projects/{project}` + path: the project-scoped part of a request path. */
  projectPath(path: string): string {
    return `/projects/${this.project}${path}`;
  }

  async request<T>(options: RequestOptions): Promise<T | undefined> {
    for (let attempt = 0; ; attempt++) {
      throwIfCancelled(options.signal);
      const token = await this.tokens.token(options.signal);
      const url = new URL(this.root + options.path);
      for (const [key, value] of Object.entries(options.query ?? {}))
        if (value !== undefined) url.searchParams.set(key, String(value));
      const headers: Record<string, string> = { authorization: `Bearer ${token.value}`, accept: 'application/json' };
      if (options.json !== undefined) headers['content-type'] = 'application/json';
      let response: Response;
      try {
        response = await fetch(url, {
          method: options.http ?? 'GET',
          headers,
          signal: options.signal,
          ...(options.json !== undefined ? { body: JSON.stringify(options.json) } : {}),
        });
      } catch (error) {
        throw transportError(error, 'compute', options.method, options.signal);
      }
      if (response.status === 401 && attempt === 0) {
        await response.body?.cancel().catch(() => undefined);
        this.tokens.invalidate(token);
        continue;
      }
      if (response.status === 404 && options.notFoundOk) {
        await response.body?.cancel().catch(() => undefined);
        return undefined;
      }
      if (!response.ok) {
        const fault = await readFault(response, 'compute', options.method).catch((error: unknown) => {
          throw transportError(error, 'compute', options.method, options.signal);
        });
        throw faultToError(fault, options.permanent);
      }
      const text = await response.text().catch((error: unknown) => {
        throw transportError(error, 'compute', options.method, options.signal);
      });
      if (!text) return {} as T;
      try {
        return JSON.parse(text) as T;
      } catch (error) {
        throw new SlipwayError(
          'CloudError',
          `compute ${options.method}: ${response.status} with a body that is not JSON`,
          { plugin: PLUGIN, cause: error },
        );
      }
    }
  }

  /**
   * A project-scoped POST or DELETE that starts an operation and answers its Operation resource;
   * `requestId` (GCE's idempotency key) goes in the query when given.
   */
  async startOperation(
    method: string,
    path: string,
    options: {
      requestId?: string;
      json?: unknown;
      signal?: AbortSignal;
      http?: 'POST' | 'DELETE';
      permanent?: PermanentCode;
      query?: Record<string, string | undefined>;
    } = {},
  ): Promise<Operation> {
    const operation = await this.request<Operation>({
      method,
      http: options.http ?? 'POST',
      path: this.projectPath(path),
      query: { ...options.query, requestId: options.requestId },
      signal: options.signal,
      ...(options.json !== undefined ? { json: options.json } : {}),
      ...(options.permanent ? { permanent: options.permanent } : {}),
    });
    if (!operation?.name || !operation.status)
      throw new SlipwayError('CloudError', `compute ${method}: the answer is not an Operation`, { plugin: PLUGIN });
    return operation;
  }

  /** Every item of a paged list (`items` + `nextPageToken`), or of an aggregated list (`items` keyed by scope). */
  async listAll<T>(options: RequestOptions & { aggregatedKey?: string }): Promise<T[]> {
    const out: T[] = [];
    let pageToken: string | undefined;
    do {
      const page = await this.request<{ items?: unknown; nextPageToken?: string }>({
        ...options,
        query: { ...options.query, maxResults: 500, pageToken },
      });
      const items = page?.items;
      if (options.aggregatedKey) {
        for (const scoped of Object.values((items ?? {}) as Record<string, Record<string, unknown>>)) {
          const list = scoped?.[options.aggregatedKey];
          if (Array.isArray(list)) out.push(...(list as T[]));
        }
      } else if (Array.isArray(items)) {
        out.push(...(items as T[]));
      }
      pageToken = page?.nextPageToken || undefined;
    } while (pageToken);
    return out;
  }
}
