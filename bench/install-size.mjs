// Install size, measured: every @slipway package packed and published to a loopback npm registry (verdaccio,
// storage in a temp dir), then installed into empty directories as a user would: (a) the CLI alone, for a
// remote user (login, clusters); (b) a control plane with the sandbox; (c) that plus each cloud driver.
// Prints MiB on disk and package counts. Goals (issue 16): (a) <= 10 MiB, (b) <= 60 MiB, each cloud adding
// only its own dependencies. Third-party packages come from npm's default registry (or its cache).
// Native builds are skipped (--ignore-scripts): better-sqlite3's compiled binding adds about 10 MiB to (b).
import { execFile, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const repo = fileURLToPath(new URL('..', import.meta.url));
const WORKSPACES = [
  'core/contracts',
  'core/pki',
  'core/agent',
  'core/simulation',
  'core/testkit',
  'core/engine',
  'core/dashboard',
  'core/api',
  'core/cli',
  'plugins/credhub',
  'iaas-drivers/sandbox',
  'iaas-drivers/local',
  'iaas-drivers/aws',
  'iaas-drivers/gcp',
  'iaas-drivers/azure',
  'iaas-drivers/openstack',
  'iaas-drivers/vsphere',
  'network-drivers/flat',
  'network-drivers/nsxt',
  'registry-drivers/harbor',
];
const CONTROL_PLANE = [
  '@slipway/cli',
  '@slipway/api',
  '@slipway/engine',
  '@slipway/iaas-sandbox',
  '@slipway/network-flat',
  '@slipway/credentials-credhub',
];
const CLOUDS = ['aws', 'gcp', 'azure', 'openstack', 'vsphere'];

const freePort = () =>
  new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

function sizeOf(dir) {
  let bytes = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) bytes += sizeOf(path);
    else if (entry.isFile()) bytes += statSync(path).size;
  }
  return bytes;
}

function countPackages(modules) {
  let count = 0;
  for (const entry of readdirSync(modules, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
    if (entry.name.startsWith('@')) count += readdirSync(join(modules, entry.name)).length;
    else count += 1;
  }
  return count;
}

const work = mkdtempSync(join(tmpdir(), 'slipway-install-size-'));
const port = await freePort();
const url = `http://127.0.0.1:${port}/`;
writeFileSync(
  join(work, 'config.yaml'),
  [
    `storage: ${join(work, 'storage')}`,
    `auth: { htpasswd: { file: ${join(work, 'htpasswd')}, max_users: 10 } }`,
    'uplinks: {}',
    'packages:',
    "  '@slipway/*': { access: $all, publish: $all }",
    "  '**': { access: $all }",
    'log: { type: stdout, format: json, level: warn }',
    '',
  ].join('\n'),
);
const verdaccio = spawn(
  process.execPath,
  [
    join(repo, 'node_modules', '.bin', 'verdaccio'),
    '--config',
    join(work, 'config.yaml'),
    '--listen',
    `127.0.0.1:${port}`,
  ],
  { stdio: 'ignore' },
);
try {
  for (
    let i = 0;
    !(await fetch(`${url}-/ping`).then(
      (r) => r.ok,
      () => false,
    ));
    i++
  ) {
    if (i > 150) throw new Error('verdaccio did not start');
    await new Promise((r) => setTimeout(r, 200));
  }
  const user = await fetch(`${url}-/user/org.couchdb.user:bench`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'bench', password: 'bench-password', type: 'user' }),
  });
  const { token } = await user.json();
  const npmrc = join(work, 'npmrc');
  writeFileSync(npmrc, `@slipway:registry=${url}\n`);
  const env = { ...process.env, npm_config_userconfig: npmrc };

  mkdirSync(join(work, 'tarballs'));
  const { stdout } = await run(
    'npm',
    ['pack', '--json', '--pack-destination', join(work, 'tarballs'), ...WORKSPACES.flatMap((w) => ['-w', w])],
    { cwd: repo, maxBuffer: 64 << 20 },
  );
  for (const { filename } of JSON.parse(stdout)) {
    const tarball = join(work, 'tarballs', filename);
    const data = readFileSync(tarball);
    const manifest = JSON.parse(execFileSync('tar', ['-xzOf', tarball, 'package/package.json'], { encoding: 'utf8' }));
    const file = `${manifest.name}-${manifest.version}.tgz`;
    const res = await fetch(`${url}${manifest.name.replace('/', '%2f')}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({
        _id: manifest.name,
        name: manifest.name,
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
      }),
    });
    if (!res.ok) throw new Error(`publish ${manifest.name}: ${res.status}`);
  }

  const measure = async (label, packages) => {
    const dir = join(work, label.replace(/\W+/g, '-'));
    mkdirSync(dir);
    writeFileSync(join(dir, 'package.json'), '{ "private": true }\n');
    const started = Date.now();
    await run('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline', ...packages], {
      cwd: dir,
      env,
      maxBuffer: 64 << 20,
    });
    const modules = join(dir, 'node_modules');
    return {
      label,
      mib: sizeOf(modules) / 2 ** 20,
      packages: countPackages(modules),
      seconds: (Date.now() - started) / 1000,
    };
  };
  const rows = [];
  rows.push(await measure('(a) CLI alone', ['@slipway/cli']));
  const base = await measure('(b) control plane + sandbox', CONTROL_PLANE);
  rows.push(base);
  for (const cloud of CLOUDS) rows.push(await measure(`(c) + ${cloud}`, [...CONTROL_PLANE, `@slipway/iaas-${cloud}`]));
  console.log('install size from a loopback registry (node_modules on disk, --ignore-scripts)');
  for (const r of rows) {
    const added = r.label.startsWith('(c)')
      ? `  (+${(r.mib - base.mib).toFixed(1)} MiB, +${r.packages - base.packages} packages over (b))`
      : '';
    console.log(
      `  ${r.label.padEnd(30)} ${r.mib.toFixed(1).padStart(7)} MiB  ${String(r.packages).padStart(4)} packages  ${r.seconds.toFixed(0)} s${added}`,
    );
  }
  console.log('  goals: (a) <= 10 MiB, (b) <= 60 MiB');
} finally {
  verdaccio.kill('SIGTERM');
  rmSync(work, { recursive: true, force: true });
}
