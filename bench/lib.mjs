// Small helpers shared by the benchmark scripts: HTTPS calls to a control plane, timing, wrk.
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { Agent, request } from 'node:https';

export function client(url, ca) {
  const u = new URL(url);
  // Keep-alive, as the CLI and agents use: a TLS handshake per poll would measure the bench, not Slipway.
  const agent = new Agent({ keepAlive: true, maxSockets: 64, ca });
  const call = (method, path, { body, token, form } = {}) =>
    new Promise((resolve, reject) => {
      const headers = {};
      let payload;
      if (form) {
        payload = new URLSearchParams(form).toString();
        headers['content-type'] = 'application/x-www-form-urlencoded';
      } else if (body !== undefined) {
        payload = JSON.stringify(body);
        headers['content-type'] = 'application/json';
      }
      if (token) headers.authorization = `Bearer ${token}`;
      const req = request({ host: u.hostname, port: u.port, path, method, headers, agent }, (res) => {
        let text = '';
        res.on('data', (c) => {
          text += c;
        });
        res.on('end', () => resolve({ status: res.statusCode, body: text ? JSON.parse(text) : undefined }));
      });
      req.on('error', reject);
      req.end(payload);
    });
  return {
    call,
    close() {
      agent.destroy();
    },
    async login(username, password) {
      const res = await call('POST', '/oauth/token', { form: { grant_type: 'password', username, password } });
      if (res.status !== 200) throw new Error(`login failed: ${res.status}`);
      return res.body.access_token;
    },
    async waitTask(token, id) {
      for (;;) {
        const res = await call('GET', `/v1/tasks/${id}`, { token });
        if (['done', 'error', 'cancelled', 'timeout'].includes(res.body.state)) return res.body;
        await new Promise((r) => setTimeout(r, 100));
      }
    },
  };
}

/** Peak RSS of this process so far, in MiB (the kernel's high-water mark: no sampling needed). */
export function peakRssMb() {
  return process.resourceUsage().maxRSS / 1024;
}

export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

export function percentile(values, p) {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}

export function hasWrk() {
  return spawnSync('wrk', ['--version']).error === undefined;
}

/**
 * Requests per second wrk measures against a URL (one thread, `connections` keep-alive connections).
 * Asynchronous on purpose: the server under test usually runs in this very process.
 */
export async function wrk(url, { seconds = 5, connections = 16, headers = {} } = {}) {
  const args = ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency'];
  for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}: ${v}`);
  const { stdout: out } = await promisify(execFile)('wrk', [...args, url], { encoding: 'utf8' });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const p99 = /99%\s+([\d.]+\w+)/.exec(out)?.[1];
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  return { rps, p99, non2xx };
}

export const fmt = (n, digits = 1) => Number(n).toFixed(digits);
