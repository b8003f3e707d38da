import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { startControlPlane, type RunningControlPlane } from '@slipway/api';
import { runCli, type CliIo } from '../src/index.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** A string sink that looks like a stream, optionally a terminal. */
export function sink(options: { tty?: boolean; columns?: number } = {}) {
  const out = {
    text: '',
    isTTY: options.tty ?? false,
    columns: options.columns,
    write(chunk: string) {
      out.text += chunk;
      return true;
    },
  };
  return out;
}

export interface RunOptions {
  tty?: boolean;
  /** Lines typed on a terminal stdin (a confirmation answer). */
  input?: string;
  env?: Record<string, string | undefined>;
  signal?: AbortSignal;
  /** Receives stdout as it is written (to wait for `slipway up`'s ready line). */
  onStdout?: (text: string) => void;
  /** How often `--wait` polls when it cannot follow the event stream (default 50 ms). */
  pollIntervalMs?: number;
}

/**
 * A user's machine in a temp dir: its own HOME, CLI config and KUBECONFIG, so runs never touch the real
 * ones. `run` calls runCli in-process, as the `slipway` binary would.
 */
export class UserWorkspace {
  private constructor(readonly dir: string) {}

  static async create(): Promise<UserWorkspace> {
    return new UserWorkspace(await mkdtemp(join(tmpdir(), 'slipway-cli-')));
  }

  get cliConfig(): string {
    return join(this.dir, 'home', '.slipway', 'cli.json');
  }
  get kubeconfig(): string {
    return join(this.dir, 'kube', 'config');
  }

  env(extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
    return { HOME: join(this.dir, 'home'), SLIPWAY_CLI_CONFIG: this.cliConfig, KUBECONFIG: this.kubeconfig, ...extra };
  }

  async run(argv: string[], options: RunOptions = {}): Promise<CliRun> {
    const stdout = sink({ tty: options.tty, columns: 120 });
    const stderr = sink();
    if (options.onStdout) {
      const write = stdout.write;
      stdout.write = (chunk: string) => {
        const r = write(chunk);
        options.onStdout!(stdout.text);
        return r;
      };
    }
    let stdin: CliIo['stdin'];
    if (options.input !== undefined) {
      const stream = new PassThrough();
      (stream as unknown as { isTTY: boolean }).isTTY = options.tty ?? false;
      stream.end(options.input);
      stdin = stream;
    }
    const io: CliIo = {
      stdout,
      stderr,
      stdin,
      env: this.env(options.env),
      cwd: this.dir,
      signal: options.signal,
      pollIntervalMs: options.pollIntervalMs ?? 50,
    };
    const code = await runCli(argv, io);
    return { code, stdout: stdout.text, stderr: stderr.text };
  }

  async remove(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}

export const ADMIN_PASSWORD = 'rehearsal-pass-1';

/** A real control plane in this process on a free port (sandbox IaaS, flat network, credhub). */
export async function startTestControlPlane(): Promise<{
  cp: RunningControlPlane;
  home: string;
  stop(): Promise<void>;
}> {
  const home = await mkdtemp(join(tmpdir(), 'slipway-cp-'));
  const cp = await startControlPlane({ home, port: 0, adminPassword: ADMIN_PASSWORD, env: {}, log: () => {} });
  return {
    cp,
    home,
    async stop() {
      await cp.stop();
      await rm(home, { recursive: true, force: true });
      await rm(`${home}-keys`, { recursive: true, force: true });
    },
  };
}

/** GET straight from the API with node:https, bypassing the CLI: what --json output is compared with. */
export async function apiGet(cp: RunningControlPlane, token: string, path: string): Promise<unknown> {
  const ca = await readFile(cp.caPath);
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(path, cp.url),
      { ca, agent: false, headers: { authorization: `Bearer ${token}` } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          body += c;
        });
        res.on('end', () => resolve(JSON.parse(body)));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** Polls until `check` returns a value, for states the CLI does not wait for itself. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * What a terminal shows after `text` is written to it, for the two control sequences the live view uses:
 * CSI n F (up n lines, to column 0) and CSI J (erase to the end of the screen).
 */
export function screenOf(text: string): string[] {
  const lines: string[] = [''];
  let row = 0;
  const pattern = /\x1b\[(\d*)([FJ])|\n|[^\x1b\n]+/g;
  for (const match of text.matchAll(pattern)) {
    if (match[0] === '\n') {
      row++;
      if (lines.length <= row) lines.push('');
    } else if (match[2] === 'F') {
      row = Math.max(0, row - Number(match[1] || 1));
    } else if (match[2] === 'J') {
      lines.length = row + 1;
      lines[row] = '';
    } else {
      lines[row] += match[0];
    }
  }
  return lines;
}
