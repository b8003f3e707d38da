import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startControlPlane, type RunningControlPlane } from '../src/index.js';

export interface ApiResponse<T = any> {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: T;
}

export interface TestControlPlane {
  cp: RunningControlPlane;
  home: string;
  ca: string;
  /** One HTTPS request to the running server, trusting its generated CA. */
  call<T = any>(
    method: string,
    path: string,
    options?: { body?: unknown; token?: string; form?: Record<string, string> },
  ): Promise<ApiResponse<T>>;
  /** A bearer token for a user (password grant). */
  login(username: string, password: string): Promise<string>;
  /** Polls a task until it ends; returns its final view. */
  waitTask(token: string, id: number, timeoutMs?: number): Promise<any>;
  stop(): Promise<void>;
}

export const ADMIN_PASSWORD = 'correct-horse-battery';

/**
 * A real control plane on 127.0.0.1 (port 0) with the embedded defaults, in a temp home. `configYaml`
 * replaces the default slipway.yaml; the home is removed on stop unless `keepHome`.
 */
export async function startTestControlPlane(
  options: { configYaml?: string; home?: string; keepHome?: boolean; env?: NodeJS.ProcessEnv } = {},
): Promise<TestControlPlane> {
  const home = options.home ?? (await mkdtemp(join(tmpdir(), 'slipway-api-')));
  if (options.configYaml) await writeFile(join(home, 'slipway.yaml'), options.configYaml);
  const lines: string[] = [];
  const cp = await startControlPlane({
    home,
    port: 0,
    adminPassword: ADMIN_PASSWORD,
    log: (l) => lines.push(l),
    env: options.env ?? {},
  });
  const ca = await readFile(cp.caPath, 'utf8');
  const url = new URL(cp.url);

  const call: TestControlPlane['call'] = (method, path, opts = {}) =>
    new Promise((resolve, reject) => {
      const headers: Record<string, string> = {};
      let payload: string | undefined;
      if (opts.form) {
        payload = new URLSearchParams(opts.form).toString();
        headers['content-type'] = 'application/x-www-form-urlencoded';
      } else if (opts.body !== undefined) {
        payload = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
        headers['content-type'] = 'application/json';
      }
      if (opts.token) headers.authorization = `Bearer ${opts.token}`;
      const req = httpsRequest(
        { host: url.hostname, port: url.port, path, method, headers, ca, agent: false },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let body: unknown = text;
            if ((res.headers['content-type'] ?? '').includes('json') && text) body = JSON.parse(text);
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: body as any });
          });
        },
      );
      req.on('error', reject);
      req.end(payload);
    });

  return {
    cp,
    home,
    ca,
    call,
    async login(username, password) {
      const res = await call('POST', '/oauth/token', { form: { grant_type: 'password', username, password } });
      if (res.status !== 200) throw new Error(`login of ${username} failed: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body.access_token as string;
    },
    async waitTask(token, id, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const res = await call('GET', `/v1/tasks/${id}`, { token });
        if (['done', 'error', 'cancelled', 'timeout'].includes(res.body.state)) return res.body;
        if (Date.now() > deadline)
          throw new Error(`task ${id} still ${res.body.state} after ${timeoutMs} ms: ${JSON.stringify(res.body)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop() {
      await cp.stop();
      if (!options.keepHome && !options.home)
        for (const dir of [home, `${home}-keys`]) await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A small seeded generator (mulberry32), so a fuzzing test that fails replays the same requests. */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let x = Math.imul(s ^ (s >>> 15), 1 | s);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}
