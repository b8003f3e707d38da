import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/** The compiled CLI, as `npm start` runs it (`npm test` builds it first). */
export const CLI = fileURLToPath(new URL('../../core/cli/dist/main.js', import.meta.url));

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  output(): string;
  /** kill -9: no handler runs, nothing is flushed. */
  crash(): Promise<void>;
  /** SIGTERM and wait for a clean exit. */
  stop(): Promise<number | null>;
}

/** `slipway up` as its own process; resolves once it prints its ready line. */
export async function startServer(options: {
  home: string;
  port: number;
  password: string;
  config?: string;
  keys?: string;
  umask?: string;
}): Promise<ServerProcess> {
  const args = [CLI, 'up', '--home', options.home, '--port', String(options.port)];
  if (options.config) args.push('--config', options.config);
  if (options.keys) args.push('--keys', options.keys);
  // With a umask, through a shell that sets it and then becomes node (same pid, so kill -9 reaches it).
  const [command, argv] =
    options.umask === undefined
      ? [process.execPath, args]
      : ['/bin/sh', ['-c', `umask ${options.umask} && exec "$0" "$@"`, process.execPath, ...args]];
  const child = spawn(command, argv, {
    env: {
      ...process.env,
      SLIPWAY_ADMIN_PASSWORD: options.password,
      SLIPWAY_HOME: '',
      SLIPWAY_CONFIG: '',
      SLIPWAY_PORT: '',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => {
    out += c;
  });
  child.stderr!.on('data', (c: Buffer) => {
    out += c;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`slipway up did not get ready in 60 s:\n${out}`)), 60_000);
    const check = () => {
      const m = /Slipway is ready at (https:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        child.stdout!.off('data', check);
        resolve(m[1]);
      }
    };
    child.stdout!.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`slipway up exited ${code} before it was ready:\n${out}`));
    });
  });
  return {
    child,
    url,
    output: () => out,
    async crash() {
      child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

/** A small HTTPS client for the API that trusts the control plane's CA. */
export function apiClient(url: string, caPath: string) {
  const u = new URL(url);
  const ca = readFileSync(caPath, 'utf8');
  const call = <T = any>(
    method: string,
    path: string,
    opts: { body?: unknown; token?: string; form?: Record<string, string> } = {},
  ) =>
    new Promise<{ status: number; body: T }>((resolve, reject) => {
      const headers: Record<string, string> = {};
      let payload: string | undefined;
      if (opts.form) {
        payload = new URLSearchParams(opts.form).toString();
        headers['content-type'] = 'application/x-www-form-urlencoded';
      } else if (opts.body !== undefined) {
        payload = JSON.stringify(opts.body);
        headers['content-type'] = 'application/json';
      }
      if (opts.token) headers.authorization = `Bearer ${opts.token}`;
      const req = request({ host: u.hostname, port: u.port, path, method, headers, ca, agent: false }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => {
          text += c;
        });
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: (text && (res.headers['content-type'] ?? '').includes('json') ? JSON.parse(text) : text) as T,
          }),
        );
      });
      req.on('error', reject);
      req.end(payload);
    });
  return {
    call,
    async login(username: string, password: string): Promise<string> {
      const res = await call('POST', '/oauth/token', { form: { grant_type: 'password', username, password } });
      if (res.status !== 200) throw new Error(`login failed: ${res.status} ${JSON.stringify(res.body)}`);
      return (res.body as { access_token: string }).access_token;
    },
  };
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the compiled `slipway` command with `env`, as a user's shell would; a non-zero exit is a result, not a throw. */
export function cliRunner(env: NodeJS.ProcessEnv): (...args: string[]) => Promise<CliResult> {
  const run = promisify(execFile);
  return async (...args) => {
    try {
      const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { env, timeout: 90_000 });
      return { code: 0, stdout, stderr };
    } catch (e) {
      const err = e as { code?: number; stdout?: string; stderr?: string };
      return { code: typeof err.code === 'number' ? err.code : -1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
    }
  };
}
