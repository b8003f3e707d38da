import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { SlipwayError } from '@slipway/contracts';
import type { EntraTokenSession } from './entra.js';
import { PLUGIN, faultToError, readArmFault, transportError, type PermanentCode } from './errors.js';
import type { HttpsTransport } from './transport.js';

export type HttpMethod = 'GET' | 'PUT' | 'PATCH' | 'POST' | 'DELETE';

export interface ArmRequest {
  /** The operationId in the Azure REST API reference (`Disks_CreateOrUpdate`), for errors and logs. */
  operation: string;
  method?: HttpMethod;
  /** A path below the ARM endpoint (`/subscriptions/…`), or an absolute URL ARM gave (an operation status, a nextLink). */
  path: string;
  /** Added unless the URL already carries one (ARM's operation URLs do). */
  apiVersion: string;
  query?: Record<string, string | undefined>;
  json?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Answer `undefined` instead of throwing NotFound when the resource does not exist. */
  notFoundOk?: boolean;
  /** The verb's own code for a permanent refusal. */
  permanent?: PermanentCode;
}

export interface ArmResponse<T = unknown> {
  status: number;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body; undefined when there is none (202, 204). */
  body?: T;
}

/** 404 codes that mean the configuration is wrong, not that the resource is gone. */
const SCOPE_MISSING = new Set(['ResourceGroupNotFound', 'SubscriptionNotFound']);

/**
 * Azure Resource Manager over HTTPS with a bearer token. A 401 means the cached token was revoked or expired
 * early: the session fetches a new one and the call is sent once more — a session refresh, not a retry; a
 * second 401 is final. Nothing else is re-sent: the engine owns retries.
 */
export class ArmClient {
  private readonly endpoint: URL;

  constructor(
    resourceManagerUrl: string,
    private readonly session: EntraTokenSession,
    private readonly transport: HttpsTransport,
  ) {
    this.endpoint = new URL(resourceManagerUrl);
  }

  async request<T>(req: ArmRequest): Promise<ArmResponse<T> | undefined> {
    const url = this.urlOf(req);
    const body = req.json === undefined ? undefined : JSON.stringify(req.json);
    for (let attempt = 0; ; attempt++) {
      const token = await this.session.token(req.signal);
      let response;
      try {
        response = await this.transport.send({
          method: req.method ?? 'GET',
          url,
          body,
          signal: req.signal,
          headers: {
            authorization: `Bearer ${token.value}`,
            accept: 'application/json',
            'x-ms-client-request-id': randomUUID(),
            ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
            ...req.headers,
          },
        });
      } catch (error) {
        throw transportError(error, req.operation, this.endpoint.origin, req.signal);
      }
      if (response.status === 401 && attempt === 0) {
        this.session.invalidate(token);
        continue;
      }
      if (response.status >= 400) {
        const fault = readArmFault(response, req.operation);
        if (response.status === 404 && req.notFoundOk && !SCOPE_MISSING.has(fault.code)) return undefined;
        throw faultToError(fault, req.permanent);
      }
      return {
        status: response.status,
        headers: response.headers,
        body: parseBody<T>(response.text, req.operation, response.status),
      };
    }
  }

  /** The request URL; an absolute URL must be on the ARM endpoint, so the bearer token never leaves it. */
  private urlOf(req: ArmRequest): URL {
    const url = /^https?:\/\//.test(req.path)
      ? new URL(req.path)
      : new URL(this.endpoint.href.replace(/\/+$/, '') + req.path);
    if (url.origin !== this.endpoint.origin) {
      throw new SlipwayError(
        'CloudError',
        `${req.operation}: ARM pointed at ${url.origin}, which is not the configured endpoint ${this.endpoint.origin}; not sending the token there`,
        { plugin: PLUGIN },
      );
    }
    if (!url.searchParams.has('api-version')) url.searchParams.set('api-version', req.apiVersion);
    for (const [key, value] of Object.entries(req.query ?? {}))
      if (value !== undefined) url.searchParams.set(key, value);
    return url;
  }
}

function parseBody<T>(text: string, operation: string, status: number): T | undefined {
  if (!text.trim()) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new SlipwayError('CloudError', `${operation}: ${status} with a body that is not JSON`, {
      plugin: PLUGIN,
      cause: error,
    });
  }
}
