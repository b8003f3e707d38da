import { SlipwayError } from '@slipway/contracts';
import { faultToError, readFault, transportError, type OpenStackService, type PermanentCode } from './errors.js';
import type { CatalogService, KeystoneSession } from './keystone.js';

/** Microversions the driver speaks. compute 2.79: server tags at create (2.52+), tags filter; volume 3.50: extending in-use volumes (3.42+), snapshot metadata filter (3.22+). */
export const COMPUTE_MICROVERSION = '2.79';
export const VOLUME_MICROVERSION = '3.50';

/** What fetch accepts as a body (`BodyInit` is a DOM type, absent from Node's typings). */
export type RequestBody = NonNullable<RequestInit['body']>;

export interface RequestOptions {
  /** The API reference's name for the call, for errors and logs (`createServer`). */
  operation: string;
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';
  /** Path below the service endpoint, starting with `/`. */
  path: string;
  query?: Record<string, string | number | undefined>;
  /** JSON body. */
  json?: unknown;
  /** A raw body (image upload), made anew if the request has to be sent again after re-authentication. */
  body?: () => { data: RequestBody; contentType: string };
  signal?: AbortSignal;
  /** Answer `undefined` instead of throwing NotFound on a 404 (deletes, existence checks). */
  notFoundOk?: boolean;
  /** The verb's own code for a permanent refusal (a 400 on createServer is `VmCreationFailed`). */
  permanent?: PermanentCode;
}

/**
 * Plain-fetch client for Nova, Cinder and Glance. Node's fetch keeps connections alive, so consecutive
 * calls reuse sockets. A 401 from a service means the cached token was revoked or expired early: the
 * session authenticates again and the call is sent once more — a session refresh, not a retry; a second
 * 401 is final.
 */
export class OpenStackClient {
  constructor(
    private readonly session: KeystoneSession,
    private readonly overrides: Partial<Record<CatalogService, string>> = {},
  ) {}

  async request<T>(service: CatalogService, options: RequestOptions): Promise<T | undefined> {
    for (let attempt = 0; ; attempt++) {
      const token = await this.session.token(options.signal);
      const base = (this.overrides[service] ?? this.session.endpoint(token, service)).replace(/\/+$/, '');
      const url = new URL(base + servicePath(service, base, options.path));
      for (const [key, value] of Object.entries(options.query ?? {}))
        if (value !== undefined) url.searchParams.set(key, String(value));
      const headers: Record<string, string> = {
        'x-auth-token': token.value,
        accept: 'application/json',
        ...microversionHeaders(service),
      };
      let body: RequestBody | undefined;
      if (options.json !== undefined) {
        headers['content-type'] = 'application/json';
        body = JSON.stringify(options.json);
      } else if (options.body) {
        const made = options.body();
        headers['content-type'] = made.contentType;
        body = made.data;
      }
      let response: Response;
      try {
        response = await fetch(url, {
          method: options.method ?? 'GET',
          headers,
          body,
          signal: options.signal,
          ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
        } as RequestInit);
      } catch (error) {
        throw transportError(error, serviceName(service), options.operation, options.signal);
      }
      if (response.status === 401 && attempt === 0) {
        await response.body?.cancel().catch(() => undefined);
        this.session.invalidate(token);
        continue;
      }
      if (response.status === 404 && options.notFoundOk) {
        await response.body?.cancel().catch(() => undefined);
        return undefined;
      }
      if (!response.ok)
        throw faultToError(await readFault(response, serviceName(service), options.operation), options.permanent);
      const text = await response.text().catch((error: unknown) => {
        throw transportError(error, serviceName(service), options.operation, options.signal);
      });
      if (!text) return {} as T;
      try {
        return JSON.parse(text) as T;
      } catch (error) {
        throw new SlipwayError(
          'CloudError',
          `${serviceName(service)} ${options.operation}: ${response.status} with a body that is not JSON`,
          { cause: error },
        );
      }
    }
  }
}

function microversionHeaders(service: CatalogService): Record<string, string> {
  switch (service) {
    case 'compute':
      return {
        'openstack-api-version': `compute ${COMPUTE_MICROVERSION}`,
        'x-openstack-nova-api-version': COMPUTE_MICROVERSION,
      };
    case 'volumev3':
      return { 'openstack-api-version': `volume ${VOLUME_MICROVERSION}` };
    case 'image':
      return {};
  }
}

/** Glance's catalog URL usually has no version; Nova's and Cinder's include theirs. */
function servicePath(service: CatalogService, base: string, path: string): string {
  if (service === 'image' && !/\/v2(\.\d+)?$/.test(base)) return `/v2${path}`;
  return path;
}

function serviceName(service: CatalogService): OpenStackService {
  return service;
}
