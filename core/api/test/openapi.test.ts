import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import type { HttpApiHost } from '@slipway/contracts';
import { createCredhubApi } from '@slipway/credentials-credhub/http';
import { credhubPluginApi } from '../../../plugins/credhub/src/http/plugin-api.js';
import { createApp } from '../src/app.js';
import type { ApiDeps } from '../src/context.js';

const host: HttpApiHost = {
  url: 'https://127.0.0.1:9021',
  version: '0.0.0',
  authenticate: async () => ({ actor: 'user:x', roles: [] }),
};
// Routes are registered without touching the services; only their handlers would.
const pluginApi = credhubPluginApi({} as never, host);
const app = createApp({
  services: {} as ApiDeps['services'],
  engine: {} as ApiDeps['engine'],
  version: '0.0.0',
  pluginApis: [pluginApi],
});

async function document(): Promise<{
  paths: Record<string, Record<string, any>>;
  components: { schemas: Record<string, object> };
}> {
  const res = await app.request('/openapi.json');
  expect(res.status).toBe(200);
  return res.json() as never;
}

/** Every (method, path) a hono app answers, in OpenAPI's spelling; middleware (`ALL`) left out. */
function mounted(routes: ReadonlyArray<{ method: string; path: string }>): string[] {
  return [
    ...new Set(
      routes
        .filter((r) => r.method !== 'ALL')
        .map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:([A-Za-z]+)/g, '{$1}')}`),
    ),
  ];
}

describe('/openapi.json', () => {
  it('lists every route the API mounts, the CredHub API included', async () => {
    const doc = await document();
    const credhub = createCredhubApi({ provider: {} as never, authenticate: host.authenticate, rootEndpoints: false });
    const routes = [...mounted(app.routes), ...mounted(credhub.routes)];
    expect(routes.length).toBeGreaterThan(60);
    const missing = routes.filter((r) => {
      const [method, path] = r.split(' ');
      return !doc.paths[path]?.[method];
    });
    expect(missing).toEqual([]);
  });

  it('declares every path parameter, and every schema compiles in the validator the routes use', async () => {
    const doc = await document();
    for (const [path, item] of Object.entries(doc.paths)) {
      const names = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      for (const [method, op] of Object.entries(item)) {
        if (method === 'parameters') continue;
        const declared = [...(item.parameters ?? []), ...(op.parameters ?? [])]
          .filter((p: { in: string }) => p.in === 'path')
          .map((p: { name: string }) => p.name);
        expect(declared.sort(), `${method} ${path}`).toEqual([...names].sort());
      }
    }
    const ajv = new Ajv({ strict: false });
    for (const [name, schema] of Object.entries(doc.components.schemas))
      ajv.addSchema(schema, `#/components/schemas/${name}`);
    for (const name of Object.keys(doc.components.schemas))
      expect(() => ajv.compile({ $ref: `#/components/schemas/${name}` }), name).not.toThrow();
    expect(doc.components.schemas).toHaveProperty('CredhubSetRequest');
  });
});
