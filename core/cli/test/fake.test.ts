import { describe, expect, it } from 'vitest';
import { runCli } from '../src/index.js';

function capture(signal?: AbortSignal) {
  let stdout = '';
  let stderr = '';
  return {
    io: {
      stdout: {
        write: (s: string) => {
          stdout += s;
          return true;
        },
      },
      stderr: {
        write: (s: string) => {
          stderr += s;
          return true;
        },
      },
      env: {},
      cwd: process.cwd(),
      signal,
    },
    out: () => stdout,
    err: () => stderr,
  };
}

describe('slipway fake NAME', () => {
  it("starts a driver's fake, prints its config and credentials, and answers the cloud's real API until stopped", async () => {
    const stop = new AbortController();
    const t = capture(stop.signal);
    const running = runCli(['fake', 'openstack'], t.io as never);
    while (!t.out().trim().endsWith('}')) await new Promise((r) => setTimeout(r, 20));
    const printed = JSON.parse(t.out()) as {
      driver: string;
      config: { auth_url: string; credentials_ref: string };
      credentials: Array<{ name: string; value: { username: string; password: string; project_name: string } }>;
    };
    expect(printed.driver).toBe('openstack');
    const credential = printed.credentials.find((c) => c.name === printed.config.credentials_ref)!;
    expect(credential).toBeDefined();
    // Keystone v3 password authentication against the fake, as the OpenStack CLI would do it.
    const res = await fetch(`${printed.config.auth_url.replace(/\/$/, '')}/auth/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        auth: {
          identity: {
            methods: ['password'],
            password: {
              user: {
                name: credential.value.username,
                domain: { name: 'Default' },
                password: credential.value.password,
              },
            },
          },
          scope: { project: { name: credential.value.project_name, domain: { name: 'Default' } } },
        },
      }),
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-subject-token')).toBeTruthy();
    stop.abort();
    expect(await running).toBe(0);
    await expect(fetch(`${printed.config.auth_url}/auth/tokens`)).rejects.toThrow();
  });

  it('starts the Harbor fake: its API answers the admin login it prints, over TLS with the CA it hands out', async () => {
    const stop = new AbortController();
    const t = capture(stop.signal);
    const running = runCli(['fake', 'harbor'], t.io as never);
    while (!t.out().trim().endsWith('}')) await new Promise((r) => setTimeout(r, 20));
    const printed = JSON.parse(t.out()) as {
      config: { url: string; credentials_ref: string; ca_pem: string };
      credentials: Array<{ name: string; value: { username: string; password: string } }>;
    };
    const login = printed.credentials.find((c) => c.name === printed.config.credentials_ref)!.value;
    const { request } = await import('node:https');
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        `${printed.config.url}/api/v2.0/projects`,
        {
          ca: printed.config.ca_pem,
          headers: { authorization: `Basic ${Buffer.from(`${login.username}:${login.password}`).toString('base64')}` },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(200);
    stop.abort();
    expect(await running).toBe(0);
  }, 30_000);

  it('starts the NSX-T fake: NSX Manager over HTTPS, where the printed user logs in and reads the Policy API', async () => {
    const { Agent } = await import('undici');
    const stop = new AbortController();
    const t = capture(stop.signal);
    const running = runCli(['fake', 'nsxt'], t.io as never);
    while (!t.out().trim().endsWith('}')) await new Promise((r) => setTimeout(r, 20));
    const printed = JSON.parse(t.out()) as {
      config: { manager_url: string; ca_certificate: string; tier0_path: string };
      credentials: Array<{ type: string; value: { username: string; password: string } }>;
    };
    const user = printed.credentials.find((c) => c.type === 'user')!.value;
    const dispatcher = new Agent({ connect: { ca: printed.config.ca_certificate } });
    try {
      const login = await fetch(`${printed.config.manager_url}/api/session/create`, {
        method: 'POST',
        dispatcher,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ j_username: user.username, j_password: user.password }).toString(),
      } as RequestInit);
      expect(login.status).toBe(200);
      const cookie = /JSESSIONID=[^;]+/.exec(login.headers.get('set-cookie') ?? '')![0];
      const t0 = await fetch(`${printed.config.manager_url}/policy/api/v1${printed.config.tier0_path}`, {
        dispatcher,
        headers: { cookie, 'x-xsrf-token': login.headers.get('x-xsrf-token')! },
      } as RequestInit);
      expect(t0.status).toBe(200);
      expect(await t0.json()).toMatchObject({ resource_type: 'Tier0', path: printed.config.tier0_path });
    } finally {
      await dispatcher.close();
    }
    stop.abort();
    expect(await running).toBe(0);
  });

  it('names the package it could not load', async () => {
    const t = capture();
    expect(await runCli(['fake', 'nocloud'], t.io as never)).toBe(1);
    expect(t.err()).toContain('@slipway/iaas-nocloud/fake cannot be loaded');
  });
});
