import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './server.js';

const VERDACCIO = fileURLToPath(new URL('../../node_modules/.bin/verdaccio', import.meta.url));

export interface LoopbackRegistry {
  url: string;
  /**
   * Publishes a tarball made by `npm pack` through the registry's publish API (the PUT `npm publish` sends),
   * in-process: twenty `npm publish` processes take minutes on a busy two-core machine.
   */
  publish(tarball: string): Promise<void>;
  /** An .npmrc that sends the @slipway scope (and only it) to this registry, with a publish token. */
  npmrc: string;
  stop(): Promise<void>;
}

/**
 * A real npm registry (verdaccio) on 127.0.0.1 with its storage in `dir`: anyone may publish @slipway/*;
 * nothing is proxied, so every other package comes from npm's default registry through the .npmrc.
 */
export async function startLoopbackRegistry(dir: string): Promise<LoopbackRegistry> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  mkdirSync(join(dir, 'storage'), { recursive: true });
  writeFileSync(
    join(dir, 'config.yaml'),
    [
      `storage: ${join(dir, 'storage')}`,
      `auth: { htpasswd: { file: ${join(dir, 'htpasswd')}, max_users: 100 } }`,
      'uplinks: {}',
      'packages:',
      "  '@slipway/*': { access: $all, publish: $all, unpublish: $all }",
      "  '**': { access: $all, publish: $authenticated }",
      'server: { keepAliveTimeout: 5 }',
      'log: { type: stdout, format: json, level: warn }',
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn(
    process.execPath,
    [VERDACCIO, '--config', join(dir, 'config.yaml'), '--listen', `127.0.0.1:${port}`],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout!.on('data', (c: Buffer) => {
    output += c;
  });
  child.stderr!.on('data', (c: Buffer) => {
    output += c;
  });
  const deadline = Date.now() + 30_000;
  for (;;) {
    const up = await fetch(`${url}-/ping`).then(
      (r) => r.ok,
      () => false,
    );
    if (up) break;
    if (Date.now() > deadline || child.exitCode !== null)
      throw new Error(`verdaccio did not start on ${url}:\n${output}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  // npm publishes only with a token: register a throwaway user, as `npm adduser` would.
  const user = await fetch(`${url}-/user/org.couchdb.user:publisher`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      name: 'publisher',
      password: 'loopback-publisher',
      email: 'publisher@example.com',
      type: 'user',
    }),
  });
  const { token } = (await user.json()) as { token?: string };
  if (!token) throw new Error(`verdaccio refused to register the publisher (${user.status})`);
  const npmrc = join(dir, 'npmrc');
  writeFileSync(npmrc, `@slipway:registry=${url}\n//127.0.0.1:${port}/:_authToken=${token}\n`);
  return {
    url,
    npmrc,
    async publish(tarball: string) {
      const data = readFileSync(tarball);
      const manifest = JSON.parse(
        execFileSync('tar', ['-xzOf', tarball, 'package/package.json'], { encoding: 'utf8' }),
      ) as { name: string; version: string; description?: string };
      const file = `${manifest.name}-${manifest.version}.tgz`;
      const body = {
        _id: manifest.name,
        name: manifest.name,
        description: manifest.description ?? '',
        'dist-tags': { latest: manifest.version },
        versions: {
          [manifest.version]: {
            ...manifest,
            _id: `${manifest.name}@${manifest.version}`,
            dist: {
              shasum: createHash('sha1').update(data).digest('hex'),
              integrity: `sha512-${createHash('sha512').update(data).digest('base64')}`,
              tarball: `${url}${manifest.name}/-/${file.split('/').pop()}`,
            },
          },
        },
        _attachments: {
          [file]: { content_type: 'application/octet-stream', data: data.toString('base64'), length: data.length },
        },
      };
      const res = await fetch(`${url}${manifest.name.replace('/', '%2f')}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(body),
      });
      if (!res.ok)
        throw new Error(`publishing ${manifest.name}@${manifest.version} to ${url}: ${res.status} ${await res.text()}`);
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
