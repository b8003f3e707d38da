import { connect, type TLSSocket } from 'node:tls';
import { request as httpsRequest } from 'node:https';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG_YAML } from '@slipway/engine';
import type { Logger } from '@slipway/contracts';
import { createCredhubApi } from '@slipway/credentials-credhub/http';
import { problemResponse } from '../src/problem.js';
import { ADMIN_PASSWORD, startTestControlPlane, type TestControlPlane } from './harness.js';

const REQUEST_TIMEOUT_S = 3;
const HEADERS_TIMEOUT_S = 2;
let t: TestControlPlane;
let admin: string;

beforeAll(async () => {
  const configYaml = DEFAULT_CONFIG_YAML.replace(
    '  token_ttl_seconds: 43200\n',
    `  token_ttl_seconds: 43200\n  request_timeout_seconds: ${REQUEST_TIMEOUT_S}\n  headers_timeout_seconds: ${HEADERS_TIMEOUT_S}\n`,
  );
  expect(configYaml).toContain('request_timeout_seconds');
  t = await startTestControlPlane({ configYaml });
  admin = await t.login('admin', ADMIN_PASSWORD);
}, 120_000);

afterAll(async () => t?.stop());

/** Sends `size` bytes (declared, or chunked when `chunked`) until the server answers; returns the status. */
function sendHuge(path: string, size: number, chunked: boolean): Promise<{ status: number; body: string }> {
  const url = new URL(t.cp.url);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      ...(chunked ? {} : { 'content-length': String(size) }),
    };
    const req = httpsRequest({
      host: url.hostname,
      port: url.port,
      path,
      method: 'POST',
      headers,
      ca: t.ca,
      agent: false,
    });
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    let sent = 0;
    let answered = false;
    const pump = () => {
      while (!answered && sent < size) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
      if (!answered) req.end();
    };
    req.on('response', (res) => {
      answered = true;
      let body = '';
      res.on('data', (d: Buffer) => {
        body += d.toString();
      });
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body });
        req.destroy();
      });
    });
    req.on('error', (e) => (answered ? undefined : reject(e)));
    pump();
  });
}

describe('HTTP hardening', () => {
  it('refuses four 100 MB login bodies with 413 naming the limit, without the server growing by their size', async () => {
    global.gc?.();
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 20);
    const answers = await Promise.all([
      sendHuge('/oauth/token', 100 * 2 ** 20, false),
      sendHuge('/oauth/token', 100 * 2 ** 20, false),
      sendHuge('/oauth/token', 100 * 2 ** 20, true),
      sendHuge('/v1/clusters', 100 * 2 ** 20, true),
    ]);
    clearInterval(sampler);
    console.log(
      `rss before ${(before / 2 ** 20).toFixed(0)} MiB, peak during four 100 MiB bodies ${(peak / 2 ** 20).toFixed(0)} MiB`,
    );
    for (const a of answers) {
      expect(a.status).toBe(413);
      expect(JSON.parse(a.body)).toMatchObject({ code: 'PayloadTooLarge' });
    }
    expect(JSON.parse(answers[0].body).detail).toContain('8192 bytes');
    expect(JSON.parse(answers[3].body).detail).toContain('1048576 bytes');
    expect(peak - before).toBeLessThan(100 * 2 ** 20);
  }, 60_000);

  it('closes 50 connections that trickle a body one byte a second, and 50 that trickle headers, within their bounds', async () => {
    const url = new URL(t.cp.url);
    const open = (headersDone: boolean) =>
      new Promise<number>((resolve, reject) => {
        let started = Date.now();
        const socket: TLSSocket = connect(
          { host: url.hostname, port: Number(url.port), ca: t.ca, servername: 'localhost', rejectUnauthorized: false },
          () => {
            // The bound runs from the first byte of the request, not from the TLS handshake.
            started = Date.now();
            socket.write(
              `POST /oauth/token HTTP/1.1\r\nHost: ${url.host}\r\ncontent-type: application/json\r\n${headersDone ? 'content-length: 1000\r\n\r\n' : ''}`,
            );
            const trickle = setInterval(() => socket.write(headersDone ? 'a' : 'x-slow: 1\r\n'), 1000);
            socket.on('close', () => {
              clearInterval(trickle);
              resolve(Date.now() - started);
            });
          },
        );
        socket.on('error', () => {});
        setTimeout(() => reject(new Error('connection still open after 20 s')), 20_000).unref();
      });
    const bodies = Array.from({ length: 50 }, () => open(true));
    const headers = Array.from({ length: 50 }, () => open(false));
    const bodyTimes = await Promise.all(bodies);
    const headerTimes = await Promise.all(headers);
    // The bound plus node's one-second check interval, and slack for a loaded machine.
    expect(Math.max(...bodyTimes)).toBeLessThan((REQUEST_TIMEOUT_S + 4) * 1000);
    expect(Math.max(...headerTimes)).toBeLessThan((HEADERS_TIMEOUT_S + 4) * 1000);
    // The server still answers afterwards.
    expect((await t.call('GET', '/health')).status).toBe(200);
  }, 60_000);

  it('refuses JSON nested deeper than 32 levels with a 400', async () => {
    let deep = '1';
    for (let i = 0; i < 5000; i++) deep = `[${deep}]`;
    const res = await t.call('POST', '/v1/clusters', { token: admin, body: deep });
    expect(res.status).toBe(400);
    expect(res.body.detail).toMatch(/deeper than 32 levels/);
    const login = await t.call('POST', '/oauth/token', {
      body: `{"grant_type":"password","username":${'['.repeat(40)}`,
    });
    expect(login.status).toBe(400);
  });

  it('takes only canonical ids: " 1", "1abc", "01", "0" and "1e0" are the same 400, an unknown id a 404', async () => {
    for (const raw of ['%201', '1abc', '01', '0', '1e0', '-1', '1.0', '99999999999999999999']) {
      const res = await t.call('GET', `/v1/tasks/${raw}`, { token: admin });
      expect(res.status, raw).toBe(400);
      expect(res.body.field).toBe('id');
      expect((await t.call('GET', `/v1/fleet-upgrades/${raw}`, { token: admin })).status, raw).toBe(400);
    }
    expect((await t.call('GET', '/v1/tasks/987654', { token: admin })).status).toBe(404);
  });

  it('tells plugin versions in /info only to a logged-in caller', async () => {
    const anonymous = await t.call('GET', '/info');
    expect(anonymous.status).toBe(200);
    expect(anonymous.body.plugins).toBeUndefined();
    const badToken = await t.call('GET', '/info', { token: 'not-a-token' });
    expect(badToken.body.plugins).toBeUndefined();
    const user = await t.call('GET', '/info', { token: admin });
    expect(user.body.plugins.map((p: { name: string }) => p.name)).toContain('@slipway/credentials-credhub');
  });

  it('answers an internal error with an id only, and logs the id with the details', async () => {
    const logged: Array<Record<string, unknown>> = [];
    const logger = { error: (_m: string, f?: Record<string, unknown>) => logged.push(f ?? {}) } as unknown as Logger;
    const app = new Hono();
    app.onError((e, c) => problemResponse(c, e, logger));
    app.get('/boom', () => {
      throw new TypeError('cannot read secret of /srv/slipway/keys.json');
    });
    const res = await app.request('/boom');
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(text).not.toMatch(/secret|keys\.json|TypeError|at /);
    const body = JSON.parse(text);
    expect(body.error_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(logged[0]).toMatchObject({ error_id: body.error_id });
    expect(String(logged[0].error)).toContain('keys.json');

    // The CredHub API mounted beside it does the same.
    const credhub = createCredhubApi({
      provider: {
        getVersion: async () => {
          throw new TypeError('cannot open /srv/slipway/credhub.db');
        },
      } as never,
      authenticate: async () => ({ actor: 'user:admin', roles: ['clusters.admin'] }),
      rootEndpoints: false,
      logger,
    });
    const res2 = await credhub.request('/api/v1/data/some-id', { headers: { authorization: 'Bearer t' } });
    expect(res2.status).toBe(500);
    const text2 = await res2.text();
    expect(text2).not.toMatch(/credhub\.db|TypeError/);
    expect(logged[1]).toMatchObject({ error_id: JSON.parse(text2).error_id });
  });
});
