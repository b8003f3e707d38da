import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentChannelRecorder } from '@slipway/testkit/simulation';
import { encodeAgentSettings, type AgentSettings, type Heartbeat } from '@slipway/contracts';

const run = promisify(execFile);
const AGENT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BUNDLE_SCRIPT = join(AGENT, 'scripts/bundle.mjs');

/**
 * The single-file agent as an image carries it: bundled by the npm script, copied alone into an empty
 * directory of the system's temp dir (no node_modules anywhere above it), run with node and a bare
 * environment (no NODE_PATH), reporting to an mTLS channel recorder.
 */
describe('the bundled agent (one file, nothing else)', () => {
  let buildDir: string;
  let imageDir: string;
  let agentFile: string;
  let bundleReport: string;
  let recorder: AgentChannelRecorder;
  const children = new Set<ChildProcess>();
  const servers: Server[] = [];

  beforeAll(async () => {
    buildDir = await mkdtemp(join(tmpdir(), 'slipway-bundle-build-'));
    imageDir = await mkdtemp(join(tmpdir(), 'slipway-bundle-image-'));
    const built = join(buildDir, 'slipway-agent.mjs');
    bundleReport = (await run(process.execPath, [BUNDLE_SCRIPT, built], { cwd: AGENT, timeout: 60_000 })).stdout;
    agentFile = join(imageDir, 'opt', 'slipway', 'slipway-agent.mjs');
    await mkdir(dirname(agentFile), { recursive: true });
    await copyFile(built, agentFile);
    recorder = await AgentChannelRecorder.start({ heartbeatIntervalMs: 500 });
  }, 90_000);

  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await Promise.all(servers.map((server) => new Promise((done) => server.close(done))));
    await recorder?.stop();
    await Promise.all([buildDir, imageDir].filter(Boolean).map((dir) => rm(dir, { recursive: true, force: true })));
  });

  /** Starts the bundled agent the way the systemd unit does, from the image directory, with only PATH set. */
  function startAgent(args: string[]): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
    const child = spawn(process.execPath, [agentFile, ...args], {
      cwd: imageDir,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    let text = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
    });
    const exited = new Promise<number | null>((done) =>
      child.once('exit', (code) => {
        children.delete(child);
        done(code);
      }),
    );
    return { child, output: () => text, exited };
  }

  async function stopAgent(agent: ReturnType<typeof startAgent>): Promise<number | null> {
    agent.child.kill('SIGTERM');
    return agent.exited;
  }

  /** Waits for a sync, and says what the agent printed when there is none (a missing module, a bad source). */
  async function syncOf(
    agent: ReturnType<typeof startAgent>,
    agentId: string,
    accept: (hb: Heartbeat) => boolean = () => true,
  ): Promise<Heartbeat> {
    const exitedEarly = agent.exited.then((code) => {
      throw new Error(`the bundled agent exited ${code} before it synced:\n${agent.output()}`);
    });
    return Promise.race([recorder.waitForHeartbeat(agentId, accept, 10_000), exitedEarly]);
  }

  it('is one executable ESM file, without the engine, a database or a cloud SDK in it', async () => {
    expect(await readdir(imageDir, { recursive: true })).toEqual([
      'opt',
      join('opt', 'slipway'),
      join('opt', 'slipway', 'slipway-agent.mjs'),
    ]);
    for (let dir = imageDir; dir !== dirname(dir); dir = dirname(dir))
      expect(existsSync(join(dir, 'node_modules')), `${dir}/node_modules`).toBe(false);
    expect((await stat(agentFile)).mode & 0o111).toBe(0o111);
    expect(bundleReport).toMatch(/slipway-agent\.mjs: [\d.]+ KiB \(\d+ bytes\) in \d+ ms/);
    const packages = [...bundleReport.matchAll(/^ {2}(\S+) +[\d.]+ KiB/gm)].map((m) => m[1]).sort();
    expect(packages).toEqual([
      '@slipway/agent',
      '@slipway/contracts',
      '@slipway/iaas-aws',
      '@slipway/iaas-azure',
      '@slipway/iaas-gcp',
      '@slipway/iaas-local',
      '@slipway/iaas-openstack',
      '@slipway/iaas-vsphere',
    ]);
  });

  it("answers --help on stdout with every cloud's metadata source by name", async () => {
    const { stdout } = await run(process.execPath, [agentFile, '--help'], {
      cwd: imageDir,
      env: { PATH: process.env.PATH ?? '' },
    });
    for (const name of [
      'file:USER_DATA',
      'aws[:URL]',
      'gcp[:URL]',
      'azure[:URL]',
      'openstack[:URL]',
      'openstack-config-drive:MOUNT_PATH',
      'vsphere[:VMTOOLSD]',
      'local:DRIVER_ROOT,VM_ID',
      'module:SPECIFIER#EXPORT',
    ]) {
      expect(stdout).toContain(`--metadata ${name}`);
    }
  });

  it('boots from a file source, connects over mTLS, syncs, reports its jobs, and detaches on SIGTERM', async () => {
    const agentId = 'bundled-file-1';
    const settings = await recorder.settingsFor(agentId, { group: 'worker' });
    const vmDir = join(imageDir, 'vm-file');
    const root = join(vmDir, 'fs');
    await mkdir(root, { recursive: true });
    await writeFile(join(vmDir, 'user-data.json'), JSON.stringify(settings), { mode: 0o600 });
    await writeFile(
      join(vmDir, 'meta-data.json'),
      JSON.stringify({ instanceId: 'vm-file', network: { ip: '127.0.0.1' } }),
    );

    const agent = startAgent([
      '--metadata',
      `file:${join(vmDir, 'user-data.json')},${join(vmDir, 'meta-data.json')}`,
      '--root',
      root,
    ]);
    const first = await syncOf(agent, agentId);
    expect(first).toMatchObject({ agentId, instanceId: settings.instanceId });
    // The recorder sends the worker jobs without cluster settings: the bundled job catalog says why it cannot run them.
    const applied = await syncOf(agent, agentId, (hb) => hb.appliedGeneration === 1);
    expect(applied.jobs.map((job) => job.name)).toEqual(['containerd', 'kubelet', 'kube-proxy']);
    for (const job of applied.jobs) expect(job.unavailable).toMatch(/no cluster settings/);
    expect(recorder.syncs.filter((s) => s.agentId === agentId).every((s) => s.status === 200)).toBe(true);

    expect(await stopAgent(agent)).toBe(0);
    expect(agent.output()).toMatch(/"message":"detaching: jobs keep running for the next agent"/);
    expect(agent.output()).toMatch(/"metadata":"file"/);
  });

  it("reads a cloud's metadata service by name: --metadata openstack:URL", async () => {
    const agentId = 'bundled-openstack-1';
    const settings = await recorder.settingsFor(agentId, { group: 'worker' });
    const asked: string[] = [];
    const nova = await serveMetadata(servers, (path) => {
      asked.push(path);
      if (path === '/openstack/latest/user_data') return JSON.stringify(settings);
      if (path === '/openstack/latest/meta_data.json')
        return JSON.stringify({ uuid: 'server-uuid-1', name: 'bundled' });
      return undefined;
    });
    const root = join(imageDir, 'vm-openstack');
    await mkdir(root, { recursive: true });

    const agent = startAgent(['--metadata', `openstack:${nova}`, '--root', root]);
    expect(await syncOf(agent, agentId)).toMatchObject({ agentId, instanceId: settings.instanceId });
    expect(asked).toContain('/openstack/latest/user_data');
    expect(await stopAgent(agent)).toBe(0);
    expect(agent.output()).toMatch(/"metadata":"openstack-metadata"/);
  });

  it('refuses an unknown source by listing the ones it has, and exits 1', async () => {
    const agent = startAgent(['--metadata', 'cloudy', '--root', join(imageDir, 'vm-none')]);
    expect(await agent.exited).toBe(1);
    expect(agent.output()).toMatch(
      /--metadata cloudy: expected one of file:PATH, aws, gcp, azure, openstack, openstack-config-drive, vsphere, local, module:SPECIFIER#EXPORT/,
    );
  });

  it("still takes module:SPECIFIER#EXPORT, importing a reader from the image's disk", async () => {
    const agentId = 'bundled-module-1';
    const settings: AgentSettings = await recorder.settingsFor(agentId, { group: 'worker' });
    const reader = join(imageDir, 'opt', 'slipway', 'acme-metadata.mjs');
    // A vendor's reader for a cloud outside the repo: base64 user data, as most clouds deliver it.
    await writeFile(
      reader,
      [
        `const userData = ${JSON.stringify(encodeAgentSettings(settings))};`,
        'export class AcmeMetadata {',
        '  kind = "acme";',
        '  async readSettings() { return JSON.parse(Buffer.from(userData, "base64").toString("utf8")); }',
        '}',
      ].join('\n'),
    );
    const agent = startAgent(['--metadata', `module:${reader}#AcmeMetadata`, '--root', join(imageDir, 'vm-module')]);
    expect(await syncOf(agent, agentId)).toMatchObject({ agentId });
    expect(await stopAgent(agent)).toBe(0);
    expect(agent.output()).toMatch(/"metadata":"acme"/);
  });
});

/** A metadata service on 127.0.0.1: `answer` gives a path's body, or undefined for 404. */
async function serveMetadata(servers: Server[], answer: (path: string) => string | undefined): Promise<string> {
  const server = createServer((req, res) => {
    const body = answer(new URL(req.url ?? '/', 'http://metadata').pathname);
    res.writeHead(body === undefined ? 404 : 200, { 'content-type': 'text/plain' });
    res.end(body ?? 'Not Found');
  });
  servers.push(server);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the metadata server has no TCP address');
  return `http://127.0.0.1:${address.port}`;
}
