import { Agent, request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import Sqlite from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, seededRandom as random, startTestControlPlane, type TestControlPlane } from './harness.js';

interface FuzzRequest {
  method: string;
  path: string;
  role: string;
  body?: string;
  contentType?: string;
}

const BAD_SEGMENTS = [
  '%201',
  '1abc',
  '01',
  '0',
  '-1',
  '1e3',
  '99999999999999999999',
  'x'.repeat(3000),
  '%00',
  '..%2F..%2Fetc',
  '%F0%9F%92%A9',
  '%25',
  "'%3B%20DROP%20TABLE%20users%3B--",
  'sandbox',
  'no-such-thing',
  '%2Fslipway%2Fcontrol-plane%2Fca',
];

function deep(levels: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < levels; i++) v = i % 2 ? [v] : { d: v };
  return v;
}

const BAD_VALUES: unknown[] = [
  true,
  false,
  0,
  -1,
  1e308,
  1.5,
  '',
  'x'.repeat(100_000),
  null,
  [],
  {},
  [[[]]],
  deep(40),
  '\u0000',
  { $ref: '#' },
  '%s%n',
  ['a', 1, null],
];

/** Requests generated from the OpenAPI document: every operation, bad path parameters, bodies and queries. */
function generate(
  doc: { paths: Record<string, Record<string, any>>; components: { schemas: Record<string, any> } },
  roles: string[],
  perOperation: number,
  seed: number,
): FuzzRequest[] {
  const next = random(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)];
  const resolve = (schema: any): any => (schema?.$ref ? doc.components.schemas[schema.$ref.split('/').pop()] : schema);
  const out: FuzzRequest[] = [];
  for (const [template, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (method === 'parameters') continue;
      const bodySchema = resolve(
        op.requestBody?.content?.['application/json']?.schema ??
          op.requestBody?.content?.['application/x-www-form-urlencoded']?.schema,
      );
      const queries: string[] = [...(item.parameters ?? []), ...(op.parameters ?? [])]
        .filter((p: any) => p.in === 'query')
        .map((p: any) => p.name);
      for (let i = 0; i < perOperation * roles.length; i++) {
        let path = template.replace(/\{[^}]+\}/g, () => pick(BAD_SEGMENTS));
        if (queries.length)
          path += `?${queries.map((q) => `${q}=${encodeURIComponent(String(pick(BAD_VALUES)).slice(0, 3000))}`).join('&')}`;
        const request: FuzzRequest = { method: method.toUpperCase(), path, role: roles[i % roles.length] };
        if (method !== 'get' && method !== 'delete') {
          const shape = Math.floor(next() * 7);
          const properties = Object.keys(bodySchema?.properties ?? {});
          if (shape <= 2 && properties.length) {
            // Every known field with a value of the wrong kind, or one field left out.
            const body = Object.fromEntries(properties.map((p) => [p, pick(BAD_VALUES)]));
            if (shape === 2) delete body[pick(properties)];
            request.body = JSON.stringify(body);
          } else if (shape === 3)
            request.body = pick(['{', 'null', '[]', '"s"', '1', '{"a":', '\u0000', JSON.stringify(deep(3000))]);
          else if (shape === 4) {
            request.body = JSON.stringify({ name: 'x' });
            request.contentType = pick([
              'text/plain',
              'application/x-www-form-urlencoded',
              'application/xml',
              'multipart/form-data; boundary=x',
            ]);
          } else if (shape === 5)
            request.body = JSON.stringify({ [pick(['__proto__', 'constructor', 'extra'])]: { polluted: true } });
          else request.body = JSON.stringify(pick(BAD_VALUES));
          request.contentType ??= 'application/json';
        }
        out.push(request);
      }
    }
  }
  return out;
}

let t: TestControlPlane;
const tokens: Record<string, string | undefined> = {};

function tableCounts(file: string, skip: RegExp): Record<string, number> {
  const db = new Sqlite(file, { readonly: true });
  try {
    const tables = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
      .pluck()
      .all() as string[];
    return Object.fromEntries(
      tables
        .filter((n) => !skip.test(n))
        .map((n) => [n, db.prepare(`SELECT count(*) FROM "${n}"`).pluck().get() as number]),
    );
  } finally {
    db.close();
  }
}

function snapshot(): Record<string, number> {
  // Audit rows, events and tokens are what a request may legitimately leave behind.
  // The credential store's tables (credhub_*) are in the same database.
  const skip = /^(audit|audit_events|credhub_audit_events|events|tokens|leader|kysely_migration.*)$/;
  const core = tableCounts(join(t.home, 'slipway.db'), skip);
  return Object.fromEntries(Object.entries(core).map(([k, v]) => [`slipway.${k}`, v]));
}

beforeAll(async () => {
  t = await startTestControlPlane();
  tokens.admin = await t.login('admin', ADMIN_PASSWORD);
  for (const [name, role] of [
    ['reader', 'clusters.admin.read'],
    ['manager', 'clusters.manage'],
  ] as const) {
    expect(
      (
        await t.call('POST', '/v1/users', {
          token: tokens.admin,
          body: { name, password: `${name}-password-1`, roles: [role] },
        })
      ).status,
    ).toBe(201);
    tokens[name] = await t.login(name, `${name}-password-1`);
  }
  tokens.none = undefined;
  tokens.forged = 'forged-token-that-was-never-issued';
  expect(
    (
      await t.call('PUT', '/api/v1/data', {
        token: tokens.admin,
        body: { name: '/fuzz/seed', type: 'value', value: 'kept' },
      })
    ).status,
  ).toBe(200);
}, 120_000);

afterAll(async () => t?.stop());

describe('fuzzing every route from /openapi.json', () => {
  it('answers a few thousand bad requests as each role without a 5xx or a half-written change', async () => {
    const doc = (await t.call('GET', '/openapi.json')).body;
    const requests = generate(doc, Object.keys(tokens), 8, 20261207);
    expect(requests.length).toBeGreaterThan(2000);
    const before = snapshot();

    const url = new URL(t.cp.url);
    const agent = new Agent({ keepAlive: true, maxSockets: 16, ca: t.ca });
    // A reused connection the server has just closed (after a 413 or 431) fails once: retried on a fresh one.
    const send = (r: FuzzRequest): Promise<number> => sendOn(r, agent).catch(() => sendOn(r, false));
    const sendOn = (r: FuzzRequest, agent: Agent | false) =>
      new Promise<number>((resolve, reject) => {
        const headers: Record<string, string> = {};
        if (r.contentType) headers['content-type'] = r.contentType;
        const token = tokens[r.role];
        if (token) headers.authorization = `Bearer ${token}`;
        const req = httpsRequest(
          { host: url.hostname, port: url.port, path: r.path, method: r.method, headers, agent, ca: t.ca },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          },
        );
        req.on('error', reject);
        req.end(r.body);
      });
    const statuses = new Map<number, number>();
    const failures: string[] = [];
    let index = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (index < requests.length) {
          const r = requests[index++];
          const status = await send(r);
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
          if (status >= 500)
            failures.push(`${status} ${r.role} ${r.method} ${r.path.slice(0, 120)} ${r.body?.slice(0, 120) ?? ''}`);
        }
      }),
    );
    agent.destroy();
    console.log(`fuzz: ${requests.length} requests, statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
    expect(failures.slice(0, 10)).toEqual([]);
    expect(snapshot()).toEqual(before);
    // The seed credential is intact and the API still serves.
    const seed = await t.call('GET', '/api/v1/data?name=/fuzz/seed', { token: tokens.admin });
    expect(seed.body.data[0].value).toBe('kept');
  }, 120_000);
});
