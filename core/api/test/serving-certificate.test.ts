import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { connect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Clock } from '@slipway/contracts';
import { DEFAULT_CONFIG_YAML, SystemClock } from '@slipway/engine';
import { startControlPlane, type RunningControlPlane } from '../src/index.js';

const DAY = 86_400_000;

/** The system clock, moved by `offset`. */
class MovableClock implements Clock {
  offset = 0;
  private readonly system = new SystemClock();
  now(): number {
    return Date.now() + this.offset;
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return this.system.sleep(ms, signal);
  }
}

const clock = new MovableClock();
let home: string;
let cp: RunningControlPlane;
let caPem: string;
const lines: string[] = [];

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'slipway-serving-'));
  // Checks every 0.3 s; no network version pin (this branch's base installs flat 2.0.0).
  const yaml = `${DEFAULT_CONFIG_YAML.replace(/(plugin: "@slipway\/network-flat"\n)\s+version: "\^1"\n/, '$1')}\ncertificates: { check_interval_seconds: 0.3 }\nhealth: { analyze_interval_seconds: 0.2 }\n`;
  await writeFile(join(home, 'slipway.yaml'), yaml);
  cp = await startControlPlane({ home, port: 0, env: {}, log: (l) => lines.push(l), clock });
  caPem = await readFile(cp.caPath, 'utf8');
}, 60_000);
afterAll(async () => {
  await cp?.stop();
  await rm(home, { recursive: true, force: true });
});

/** The serial of the certificate a new TLS connection to the API gets, verified against the control plane's CA. */
function servedSerial(): Promise<string> {
  const url = new URL(cp.url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: url.hostname, port: Number(url.port), ca: [caPem], servername: 'localhost' }, () => {
      resolve(socket.getPeerX509Certificate()!.serialNumber);
      socket.end();
    });
    socket.on('error', reject);
  });
}
describe("the control plane's serving certificate", () => {
  it('is renewed before it expires and served to new connections by the running server', async () => {
    const first = await servedSerial();
    // 730-day certificate: 20 days left by the control plane's clock, inside certificates.renew_before_days (30).
    clock.offset = 710 * DAY;
    const deadline = Date.now() + 20_000;
    let now = first;
    while (now === first && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      now = await servedSerial();
    }
    expect(now).not.toBe(first);
    expect(lines.some((l) => l.includes('API serving certificate renewed and reloaded'))).toBe(true);
    // The same server answers requests over the new certificate: no restart happened.
    const health = await fetchHealth();
    expect(health).toBe('{"status":"UP"}');
  }, 60_000);
});

function fetchHealth(): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(new URL('/health', cp.url), { ca: caPem, agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => {
        body += c;
      });
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.end();
  });
}
