import { randomBytes } from 'node:crypto';
import { FakeHttpError } from './http.js';
import type { FakeContext, ServiceMount } from './routes.js';

const UNAUTHORIZED = 'The request you have made requires authentication.';

/** Keystone v3: password authentication scoped to the one project, and token revocation. */
export function keystoneMount(ctx: FakeContext): ServiceMount {
  return {
    service: 'identity',
    prefix: /^\/identity/,
    routes: [
      {
        method: 'GET',
        path: /^\/v3\/?$/,
        operation: 'getVersion',
        anonymous: true,
        handle: () => ({
          status: 200,
          body: {
            version: {
              id: 'v3.14',
              status: 'stable',
              updated: '2020-04-07T00:00:00Z',
              links: [{ rel: 'self', href: `${ctx.baseUrl}/identity/v3/` }],
              'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.identity-v3+json' }],
            },
          },
        }),
      },
      {
        method: 'POST',
        path: /^\/v3\/auth\/tokens$/,
        operation: 'createToken',
        anonymous: true,
        handle: ({ body }) => {
          const { state } = ctx;
          const auth = object(body.auth, 'auth');
          const identity = object(auth.identity, 'auth/identity');
          const methods = identity.methods;
          if (!Array.isArray(methods) || !methods.includes('password'))
            throw badRequest("Invalid input for field 'identity/methods': only 'password' is supported here");
          const user = object(object(identity.password, 'identity/password').user, 'identity/password/user');
          const password = user.password;
          if (typeof password !== 'string')
            throw badRequest("Invalid input for field 'identity/password/user/password': None is not of type 'string'");
          const project = object(object(auth.scope, 'auth/scope').project, 'scope/project');
          const matches =
            user.name === state.user.name &&
            domainName(user.domain) === state.user.domain &&
            password === state.user.password &&
            project.name === state.project.name &&
            domainName(project.domain) === state.project.domain;
          if (!matches) throw new FakeHttpError(401, UNAUTHORIZED);
          const issued = Date.now();
          const token = {
            value: `gAAAAA${randomBytes(24).toString('base64url')}`,
            userId: state.user.id,
            projectId: state.project.id,
            expiresAt: issued + ctx.timings.tokenTtlMs,
          };
          state.tokens.set(token.value, token);
          return {
            status: 201,
            headers: { 'x-subject-token': token.value },
            body: {
              token: {
                methods: ['password'],
                user: {
                  domain: { id: 'default', name: state.user.domain },
                  id: state.user.id,
                  name: state.user.name,
                  password_expires_at: null,
                },
                audit_ids: [randomBytes(16).toString('base64url')],
                expires_at: new Date(token.expiresAt).toISOString().replace('Z', '000Z'),
                issued_at: new Date(issued).toISOString().replace('Z', '000Z'),
                project: {
                  domain: { id: 'default', name: state.project.domain },
                  id: state.project.id,
                  name: state.project.name,
                },
                is_domain: false,
                roles: [
                  { id: '9fe2ff9ee4384b1894a90878d3e92bab', name: 'member' },
                  { id: 'b2b7f6b5c5e04bd3a5e9f3c1e2d7a001', name: 'reader' },
                ],
                catalog: catalog(ctx),
              },
            },
          };
        },
      },
      {
        method: 'DELETE',
        path: /^\/v3\/auth\/tokens$/,
        operation: 'revokeToken',
        handle: ({ req }) => {
          const subject = req.headers['x-subject-token'];
          if (typeof subject !== 'string' || !ctx.state.tokens.delete(subject))
            throw new FakeHttpError(404, 'Could not find token.');
          return { status: 204 };
        },
      },
    ],
  };
}

function catalog(ctx: FakeContext) {
  const base = ctx.baseUrl;
  const endpoints = (url: string) =>
    ['public', 'internal'].map((iface) => ({
      id: randomBytes(16).toString('hex'),
      interface: iface,
      region_id: 'RegionOne',
      region: 'RegionOne',
      url,
    }));
  const volume = `${base}/volume/v3/${ctx.state.project.id}`;
  return [
    {
      id: randomBytes(16).toString('hex'),
      type: 'identity',
      name: 'keystone',
      endpoints: endpoints(`${base}/identity`),
    },
    {
      id: randomBytes(16).toString('hex'),
      type: 'compute',
      name: 'nova',
      endpoints: endpoints(`${base}/compute/v2.1`),
    },
    { id: randomBytes(16).toString('hex'), type: 'block-storage', name: 'cinder', endpoints: endpoints(volume) },
    { id: randomBytes(16).toString('hex'), type: 'volumev3', name: 'cinderv3', endpoints: endpoints(volume) },
    { id: randomBytes(16).toString('hex'), type: 'image', name: 'glance', endpoints: endpoints(`${base}/image`) },
  ];
}

function object(value: unknown, field: string): Record<string, unknown> {
  if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  throw badRequest(`Invalid input for field '${field}': None is not of type 'object'`);
}

function domainName(domain: unknown): string | undefined {
  const d = domain as { name?: unknown; id?: unknown } | undefined;
  if (typeof d?.name === 'string') return d.name;
  return d?.id === 'default' ? 'Default' : undefined;
}

function badRequest(message: string): FakeHttpError {
  return new FakeHttpError(400, message);
}
