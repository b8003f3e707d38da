import { readFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';

/** How the agent checks that a process serves, as monit's `if failed` lines and kubelet's probes do. */
export type HealthCheck =
  | {
      kind: 'http';
      /** `https://10.0.0.5:2379/health`. */
      url: string;
      /** PEM files for an https check; `insecure` accepts any server certificate (self-signed serving certs). */
      caFile?: string;
      certFile?: string;
      keyFile?: string;
      insecure?: boolean;
      /** Text the body must contain (etcd answers 200 with `"health":"false"` when it has no leader). */
      expectBody?: string;
      timeoutMs?: number;
    }
  | { kind: 'tcp'; host: string; port: number; timeoutMs?: number }
  | { kind: 'unix'; path: string; timeoutMs?: number };

/** Runs one check; resolves with undefined when healthy, with why not otherwise. Never rejects. */
export async function probe(check: HealthCheck, signal?: AbortSignal): Promise<string | undefined> {
  const timeoutMs = check.timeoutMs ?? 3_000;
  try {
    switch (check.kind) {
      case 'http':
        return await probeHttp(check, timeoutMs, signal);
      case 'tcp':
        return await probeSocket({ host: check.host, port: check.port }, timeoutMs, `${check.host}:${check.port}`);
      case 'unix':
        return await probeSocket({ path: check.path }, timeoutMs, check.path);
    }
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/** What a check looks at, for logs and reasons: `https://10.0.0.5:2379/health`. */
export function describeCheck(check: HealthCheck): string {
  switch (check.kind) {
    case 'http':
      return check.url;
    case 'tcp':
      return `tcp ${check.host}:${check.port}`;
    case 'unix':
      return `unix ${check.path}`;
  }
}

async function probeHttp(
  check: Extract<HealthCheck, { kind: 'http' }>,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<string | undefined> {
  const url = new URL(check.url);
  const secure = url.protocol === 'https:';
  const [ca, cert, key] = await Promise.all(
    [check.caFile, check.certFile, check.keyFile].map((file) => (file ? readFile(file, 'utf8') : undefined)),
  );
  return new Promise((resolve) => {
    const options: https.RequestOptions = { method: 'GET', timeout: timeoutMs, signal, headers: { accept: '*/*' } };
    if (secure) Object.assign(options, { ca, cert, key, rejectUnauthorized: !check.insecure, agent: false });
    const request = (secure ? https : http).request(url, options, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const status = response.statusCode ?? 0;
        if (status < 200 || status >= 300) return resolve(`${check.url} answered ${status}: ${body.slice(0, 200)}`);
        if (check.expectBody && !body.includes(check.expectBody))
          return resolve(`${check.url} answered ${body.slice(0, 200)}`);
        resolve(undefined);
      });
      response.on('error', (error) => resolve(error.message));
    });
    request.on('timeout', () => request.destroy(new Error(`${check.url} did not answer within ${timeoutMs} ms`)));
    request.on('error', (error) => resolve(`${check.url}: ${error.message}`));
    request.end();
  });
}

function probeSocket(
  target: { host: string; port: number } | { path: string },
  timeoutMs: number,
  what: string,
): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect(target as net.NetConnectOpts);
    const timer = setTimeout(() => finish(`${what}: no connection within ${timeoutMs} ms`), timeoutMs);
    const finish = (reason: string | undefined): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(reason);
    };
    socket.once('connect', () => finish(undefined));
    socket.once('error', (error) => finish(`${what}: ${error.message}`));
  });
}
