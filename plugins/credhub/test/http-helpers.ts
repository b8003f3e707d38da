import { SlipwayError } from '@slipway/contracts';
import { createCredhubApi, type CredhubApiOptions } from '../src/http/index.js';
import type { CredhubCredentialProvider } from '../src/index.js';

/** Tokens of the test's users, as `slipway up`'s authenticate would resolve them. */
export const PRINCIPALS: Record<string, { actor: string; roles: string[] }> = {
  'admin-token': { actor: 'user:admin', roles: ['clusters.admin'] },
  'alice-token': { actor: 'user:alice', roles: ['clusters.manage'] },
  'bob-token': { actor: 'user:bob', roles: ['clusters.manage'] },
  'reader-token': { actor: 'user:reader', roles: ['clusters.admin.read'] },
  'engine-token': { actor: 'slipway:engine', roles: [] },
};

export interface ApiCall {
  status: number;
  body: any;
  headers: Headers;
}

/** The real app with its middleware, driven through app.request from a fixed client address. */
export function apiClient(provider: CredhubCredentialProvider, options: Partial<CredhubApiOptions> = {}) {
  const app = createCredhubApi({
    provider,
    async authenticate(token) {
      const principal = PRINCIPALS[token];
      if (!principal) throw new SlipwayError('Unauthenticated', 'the token is unknown or expired');
      return principal;
    },
    ...options,
  });
  const call = async (
    method: string,
    path: string,
    token: string | null = 'admin-token',
    body?: unknown,
  ): Promise<ApiCall> => {
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await app.request(
      path,
      {
        method,
        headers,
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      },
      {
        incoming: { socket: { remoteAddress: '127.0.0.9' } },
      },
    );
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers };
  };
  return { app, call };
}
