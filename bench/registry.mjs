// The registry's figures: the registry steps' share of a cluster create against the zero-latency Harbor fake,
// robot secret rotation for 100 clusters (per second), and a 50 MiB image pushed and pulled with skopeo
// through the fake's real registry (behind its TLS proxy and token service) vs. directly to docker-registry.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startControlPlane } from '@slipway/api';
import { DEFAULT_CONFIG_YAML, importCredentials, silentLogger } from '@slipway/engine';
import harbor from '@slipway/registry-harbor';
import { startFake, writeOciImage } from '@slipway/registry-harbor/fake';
import { createTestHost } from '@slipway/testkit/simulation';
import { client, fmt, median } from './lib.mjs';

const run = promisify(execFile);
const CLUSTERS = Number(process.env.BENCH_REGISTRY_CLUSTERS ?? 5);
const ROTATIONS = 100;
const IMAGE_MIB = Number(process.env.BENCH_IMAGE_MIB ?? 50);
const PASSWORD = 'bench-password-1';

async function createShare(fake) {
  const home = mkdtempSync(join(tmpdir(), 'slipway-bench-reg-'));
  const configPath = join(home, 'slipway.yaml');
  writeFileSync(
    configPath,
    DEFAULT_CONFIG_YAML.replace('boot_delay_ms: 200', 'boot_delay_ms: 0')
      .replace(/(plugin: "@slipway\/network-flat"\n\s+version: )"\^1"/, '$1"^2"')
      .replace(
        '\nkubernetes:',
        `\nregistry:\n  plugin: "@slipway/registry-harbor"\n  config: ${JSON.stringify(fake.config)}\n\nkubernetes:`,
      )
      .replace(
        '    max_worker_instances: 10\n',
        '    max_worker_instances: 10\n    registry: { push_robot: true, prevent_vulnerable: true, severity: high, storage_limit_gb: 10 }\n',
      ),
  );
  await importCredentials({ home, configPath, logger: silentLogger, entries: fake.credentials });
  const cp = await startControlPlane({ home, port: 0, adminPassword: PASSWORD, log: () => {}, env: {} });
  const api = client(cp.url, readFileSync(cp.caPath, 'utf8'));
  try {
    const token = await api.login('admin', PASSWORD);
    const shares = [];
    const registryMs = [];
    const totalMs = [];
    for (let i = 0; i < CLUSTERS; i++) {
      const res = await api.call('POST', '/v1/clusters', {
        token,
        body: { name: `r${i}`, plan_name: 'small', parameters: { kubernetes_master_host: `r${i}.example.test` } },
      });
      const task = await api.waitTask(token, res.body.task_id);
      if (task.state !== 'done') throw new Error(`create failed: ${JSON.stringify(task.error)}`);
      const ms = (s) => Date.parse(s.finished_at) - Date.parse(s.started_at);
      const registry = task.steps.filter((s) => s.name.startsWith('registry')).reduce((sum, s) => sum + ms(s), 0);
      const total = Date.parse(task.ended_at) - Date.parse(task.started_at);
      registryMs.push(registry);
      totalMs.push(total);
      shares.push(registry / total);
    }
    console.log(
      `cluster create (1 master + 3 workers, sandbox, Harbor fake at zero latency), ${CLUSTERS} clusters one after another:`,
    );
    console.log(
      `  registry steps ${fmt(median(registryMs), 0)} ms of ${fmt(median(totalMs), 0)} ms (median), share ${fmt(median(shares) * 100, 1)}%`,
    );
  } finally {
    api.close();
    await cp.stop();
    rmSync(home, { recursive: true, force: true });
  }
}

async function rotation(fake) {
  const host = await createTestHost({ credentials: fake.credentials });
  const driver = await harbor.create(fake.config, host);
  try {
    const projects = Array.from({ length: ROTATIONS }, (_, i) => `slipway-bench-rot-${i}`);
    for (const project of projects) {
      await driver.ensureProject({ project, owner: 'bench' });
      await driver.ensureRobot({ project, robot: 'nodes', access: 'pull' });
    }
    // As the engine would, a few clusters at a time; each rotation stores its secret at once.
    const t0 = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < projects.length) {
          const project = projects[next++];
          const robot = await driver.rotateRobotSecret({ project, robot: 'nodes' });
          await host.credentials.set(
            {
              name: `/slipway/clusters/${project}/registry/pull-robot`,
              type: 'user',
              value: { username: robot.name, password: robot.secret },
            },
            { actor: 'slipway:engine' },
          );
        }
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    console.log(
      `robot secret rotation, ${ROTATIONS} clusters (PATCH /robots/{id} + credential store write, 8 in flight): ${fmt(seconds, 2)} s, ${fmt(ROTATIONS / seconds, 0)} per second`,
    );
    for (const project of projects) await driver.deleteProject({ project, force: true });
  } finally {
    await driver.destroy();
    await host.cleanup();
  }
}

async function transfer(fake) {
  const host = await createTestHost({ credentials: fake.credentials });
  const driver = await harbor.create(fake.config, host);
  const dir = mkdtempSync(join(tmpdir(), 'slipway-bench-img-'));
  try {
    await driver.ensureProject({ project: 'slipway-bench-img', owner: 'bench' });
    const push = await driver.ensureRobot({ project: 'slipway-bench-img', robot: 'ci', access: 'push-pull' });
    const creds = `${push.name}:${push.secret}`;
    const image = await writeOciImage(join(dir, 'image'), { bytes: IMAGE_MIB * 1024 * 1024 });
    writeFileSync(join(dir, 'ca.crt'), fake.caPem);
    const direct = new URL(fake.registryUrl).host;
    const time = async (args) => {
      const t0 = performance.now();
      await run('skopeo', ['copy', '--quiet', ...args], { maxBuffer: 1 << 20 });
      return (performance.now() - t0) / 1000;
    };
    const rounds = [];
    for (let i = 0; i < 3; i++) {
      const tag = `r${i}`;
      const viaFake = {
        push: await time([
          '--dest-cert-dir',
          dir,
          '--dest-creds',
          creds,
          `oci:${image.dir}:v1`,
          `docker://${fake.host}/slipway-bench-img/big-f:${tag}`,
        ]),
        pull: await time([
          '--src-cert-dir',
          dir,
          '--src-creds',
          creds,
          `docker://${fake.host}/slipway-bench-img/big-f:${tag}`,
          `oci:${join(dir, `out-f-${i}`)}:v1`,
        ]),
      };
      // The same registry process, reached without the fake's TLS proxy (its token service still signs).
      const directly = {
        push: await time([
          '--dest-tls-verify=false',
          '--dest-creds',
          creds,
          `oci:${image.dir}:v1`,
          `docker://${direct}/slipway-bench-img/big-d:${tag}`,
        ]),
        pull: await time([
          '--src-tls-verify=false',
          '--src-creds',
          creds,
          `docker://${direct}/slipway-bench-img/big-d:${tag}`,
          `oci:${join(dir, `out-d-${i}`)}:v1`,
        ]),
      };
      rounds.push({ viaFake, directly });
      rmSync(join(dir, `out-f-${i}`), { recursive: true, force: true });
      rmSync(join(dir, `out-d-${i}`), { recursive: true, force: true });
    }
    const m = (pick) => median(rounds.map(pick));
    const fp = m((r) => r.viaFake.push),
      fl = m((r) => r.viaFake.pull),
      dp = m((r) => r.directly.push),
      dl = m((r) => r.directly.pull);
    console.log(`${IMAGE_MIB} MiB image with skopeo (median of 3; fresh repository each push):`);
    console.log(`  through the fake (TLS proxy + token service): push ${fmt(fp, 2)} s, pull ${fmt(fl, 2)} s`);
    console.log(`  directly to docker-registry (plain HTTP):     push ${fmt(dp, 2)} s, pull ${fmt(dl, 2)} s`);
    console.log(`  ratio fake / direct: push ${fmt(fp / dp, 2)}, pull ${fmt(fl / dl, 2)}`);
  } finally {
    await driver.deleteProject({ project: 'slipway-bench-img', force: true }).catch(() => undefined);
    await driver.destroy();
    await host.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
}

const fake = await startFake();
try {
  await createShare(fake);
  await rotation(fake);
  await transfer(fake);
} finally {
  await fake.stop();
}
