import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobProperties, RegistryDriver } from '@slipway/contracts';
import { agentPaths, KubernetesJobCatalog } from '@slipway/agent';
import { createTestHost, type TestHost } from '@slipway/testkit/simulation';
import plugin from '../src/index.js';
import { startFake, writeOciImage, type StartedHarborFake } from '../fake/index.js';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Skopeo, SKOPEO } from './skopeo.js';

const run = promisify(execFile);
const PROJECT = 'slipway-node-trust';

/**
 * What a node renders for containerd from the registry settings the control plane sends, used as a node's
 * image client would: the `certs.d/<host>/ca.crt` it wrote is the only trust, and the login in its
 * config.toml the only credential, for pulling an image from the fake Harbor's real registry.
 */
describe("a node trusts and pulls from the cluster's registry with what its agent rendered", () => {
  let fake: StartedHarborFake;
  let host: TestHost;
  let driver: RegistryDriver;
  let root: string;
  let configToml: string;
  let certsDir: string;

  beforeAll(async () => {
    fake = await startFake();
    host = await createTestHost({ credentials: fake.credentials });
    driver = await plugin.create(fake.config, host);
    root = await mkdtemp(join(tmpdir(), 'slipway-node-'));
    await driver.ensureProject({ project: PROJECT, owner: 'node-trust' });
    const push = await driver.ensureRobot({ project: PROJECT, robot: 'ci', access: 'push-pull' });
    const pull = await driver.ensureRobot({ project: PROJECT, robot: 'nodes', access: 'pull' });
    const image = await writeOciImage(join(root, 'image'));
    const pusher = await Skopeo.withCa(fake.caPem);
    expect(
      (
        await pusher.copy(`oci:${image.dir}:v1`, `docker://${fake.host}/${PROJECT}/app:v1`, {
          dest: `${push.name}:${push.secret}`,
        })
      ).ok,
    ).toBe(true);
    await pusher.cleanup();
    const info = await driver.info();
    const properties: JobProperties = {
      cluster: { id: 'c1', name: 'trust', kubernetesVersion: '1.31.4' } as never,
      node: { name: 'worker-0', ip: '10.0.1.10', group: 'worker', index: 0 },
      registry: { host: info.endpoint, caPem: info.caPem, username: pull.name, password: pull.secret! },
    };
    const catalog = new KubernetesJobCatalog({ paths: agentPaths(join(root, 'node')), path: '' });
    const plan = await catalog.plan({ name: 'containerd' } as never, {
      settings: {} as never,
      properties,
      signal: new AbortController().signal,
    });
    const config = plan.processes[0]!.args.find((a) => a.startsWith('--config='))!.slice('--config='.length);
    configToml = await readFile(config, 'utf8');
    certsDir = /config_path = "([^"]+)"/.exec(configToml)![1]!;
  }, 60_000);

  afterAll(async () => {
    await driver?.destroy();
    await fake?.stop();
    await host?.cleanup();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('writes hosts.toml for the registry host with its CA, and the pull login in a root-only config.toml', async () => {
    const hostDir = join(certsDir, fake.host);
    const hosts = await readFile(join(hostDir, 'hosts.toml'), 'utf8');
    expect(hosts).toContain(`server = "https://${fake.host}"`);
    expect(hosts).toContain(`[host."https://${fake.host}"]`);
    expect(hosts).toContain('capabilities = ["pull", "resolve"]');
    expect(hosts).toContain(`ca = ${JSON.stringify(join(hostDir, 'ca.crt'))}`);
    expect(await readFile(join(hostDir, 'ca.crt'), 'utf8')).toBe(fake.caPem);
    expect(configToml).toContain(`[plugins."io.containerd.grpc.v1.cri".registry.configs."${fake.host}".auth]`);
    const mode = (await stat(join(dirname(certsDir), 'config.toml'))).mode & 0o777;
    expect(mode).toBe(0o600);
  });

  it('pulls the image with only the rendered CA and login, and cannot push with them', async () => {
    const username = /username = "([^"]+)"/.exec(configToml)![1]!;
    const password = /password = "([^"]+)"/.exec(configToml)![1]!;
    // containers/image reads a cert dir the way containerd reads certs.d/<host>: ca.crt is the trust.
    const certDir = join(certsDir, fake.host);
    const pulled = await run(SKOPEO, [
      'inspect',
      '--raw',
      '--cert-dir',
      certDir,
      '--creds',
      `${username}:${password}`,
      `docker://${fake.host}/${PROJECT}/app:v1`,
    ]);
    expect(JSON.parse(pulled.stdout).schemaVersion).toBe(2);
    const image = join(root, 'image');
    const pushed = await run(SKOPEO, [
      'copy',
      '--dest-cert-dir',
      certDir,
      '--dest-creds',
      `${username}:${password}`,
      `oci:${image}:v1`,
      `docker://${fake.host}/${PROJECT}/app:node`,
    ]).then(
      () => true,
      () => false,
    );
    expect(pushed).toBe(false);
  }, 60_000);

  it('refuses the registry without the rendered CA', async () => {
    const username = /username = "([^"]+)"/.exec(configToml)![1]!;
    const password = /password = "([^"]+)"/.exec(configToml)![1]!;
    const empty = await mkdtemp(join(tmpdir(), 'slipway-no-ca-'));
    const refused = await run(SKOPEO, [
      'inspect',
      '--raw',
      '--cert-dir',
      empty,
      '--creds',
      `${username}:${password}`,
      `docker://${fake.host}/${PROJECT}/app:v1`,
    ]).then(
      () => '',
      (e: { stderr?: string }) => e.stderr ?? 'failed',
    );
    expect(refused).toMatch(/certificate|x509|unknown authority/i);
    await rm(empty, { recursive: true, force: true });
  }, 60_000);
});
