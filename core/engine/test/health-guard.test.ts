import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectionBounds, healthSettingsOf } from '../src/index.js';
import { ADMIN, startHarness, testConfig, type Harness } from './health-harness.js';

/**
 * A vendor's alert sink, as an operator installs one into a plugin directory: plain ESM, its own manifest,
 * no import of Slipway. It appends every alert to a file as a JSON line.
 */
function installAlertSink(dir: string): void {
  const pkg = join(dir, 'node_modules', '@acme', 'slipway-alerts-file');
  mkdirSync(pkg, { recursive: true });
  writeFileSync(
    join(pkg, 'package.json'),
    JSON.stringify({
      name: '@acme/slipway-alerts-file',
      version: '1.0.0',
      type: 'module',
      main: 'index.js',
      slipway: { kind: 'alerts', contract: '^1.0.0' },
    }),
  );
  writeFileSync(
    join(pkg, 'index.js'),
    `
import { appendFileSync } from 'node:fs';
export default Object.freeze({
  kind: 'alerts', contract: '^1.0.0', capabilities: [],
  configSchema: { type: 'object', additionalProperties: false, required: ['file'], properties: { file: { type: 'string' } } },
  async create(config) {
    return {
      async send(alert) { appendFileSync(config.file, JSON.stringify(alert) + '\\n'); },
      async destroy() {},
    };
  },
});
`,
  );
}

// Meltdown at more than 1 instance down and more than 20 % of a cluster within 3 s.
const WINDOW_S = 3;
const home = mkdtempSync(join(tmpdir(), 'slipway-guard-'));
const alertFile = join(home, 'alerts.jsonl');
let h: Harness;
beforeAll(async () => {
  installAlertSink(join(home, 'alert-plugins'));
  h = await startHarness(
    testConfig({
      top: 'plugin_dirs: [alert-plugins]',
      plans: `
  - name: ha
    iaas: sandbox
    master_instances: 3
    worker_instances: 1
    master_vm: { cpu: 2, memory_mb: 4096, ephemeral_disk_mb: 16384, persistent_disk_mb: 10240 }
    worker_vm: { cpu: 2, memory_mb: 8192, ephemeral_disk_mb: 32768, persistent_disk_mb: 20480 }
    kubernetes: { require_api: false }`,
      health: `{ agent_timeout_seconds: 1, analyze_interval_seconds: 0.2, cloud_check_interval_seconds: 0.3, resurrector: { minimum_down: 1, percent_threshold: 0.2, time_window_seconds: ${WINDOW_S} }, alerts: [{ plugin: "@acme/slipway-alerts-file", version: "^1", config: { file: ${JSON.stringify(alertFile)} } }] }`,
    }),
    { home },
  );
}, 60_000);
afterAll(async () => {
  await h?.stop();
  rmSync(home, { recursive: true, force: true });
  rmSync(`${home}-keys`, { recursive: true, force: true });
});

const workers = async (name: string) => (await h.instances(name)).filter((i) => i.group_name === 'worker');

describe('meltdown guard', () => {
  it('holds resurrection when too much of a cluster fails at once, says why, and resumes after the window', async () => {
    const cluster = await h.createCluster('storm', 'small', 3);
    const victims = await workers('storm');
    const killedAt = Date.now();
    for (const w of victims) await h.rehearsal().killVm(w.vm_cid!);

    const alert = await h.waitFor('the meltdown alert', async () =>
      (await h.services.health.alerts(ADMIN, { cluster: 'storm' })).find((a) => a.kind === 'meltdown'),
    );
    expect(alert.severity).toBe('critical');
    expect(alert.title).toBe('Resurrection paused on cluster storm: meltdown guard');
    expect(alert.summary).toMatch(
      /of 4 instances \(\d+ %\) went down within 3 s: more than minimum_down 1 and more than percent_threshold 20 %/,
    );
    // The configured sink got it too, as the contract's Alert.
    const delivered = readFileSync(alertFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { title: string; severity: string; clusterId: string });
    expect(delivered).toContainEqual(
      expect.objectContaining({ title: alert.title, severity: 'critical', clusterId: cluster.uuid }),
    );
    const status = await h.services.health.resurrection(ADMIN, 'storm');
    expect(status.meltdown.active).toBe(true);
    expect(status.meltdown.since).not.toBeNull();

    // While the guard holds, at least two of the three stay down (the first one found may have been resurrected).
    await new Promise((r) => setTimeout(r, 800));
    const held = (await workers('storm')).filter((w) => victims.some((v) => v.id === w.id && v.vm_cid === w.vm_cid));
    expect(held.length).toBeGreaterThanOrEqual(2);
    expect(held.every((w) => w.state === 'missing')).toBe(true);

    // Once the failures age out of the window, resurrection resumes and every worker comes back.
    await h.waitFor(
      'every worker to run on a new VM',
      async () => {
        const now = await workers('storm');
        return now.every((w) => w.state === 'running' && !victims.some((v) => v.vm_cid === w.vm_cid)) ? now : undefined;
      },
      30_000,
    );
    expect(Date.now() - killedAt).toBeGreaterThanOrEqual(WINDOW_S * 1000 - 500);
    const events = (await h.store.events.ofCluster(cluster.uuid)).map((e) => e.kind);
    expect(events).toContain('meltdown.over');
    expect((await h.services.health.resurrection(ADMIN, 'storm')).meltdown.active).toBe(false);
  });

  it('leaves a VM down while resurrection is off for its cluster, alerts, and recreates it when turned on', async () => {
    await h.createCluster('quiet', 'small', 1);
    const off = await h.services.health.setResurrection(ADMIN, 'quiet', false);
    expect(off).toMatchObject({ enabled: false, source: 'cluster', set_by: 'admin' });
    const worker = (await workers('quiet'))[0]!;
    await h.rehearsal().killVm(worker.vm_cid!);
    const alert = await h.waitFor('the resurrection-off alert', async () =>
      (await h.services.health.alerts(ADMIN, { cluster: 'quiet' })).find((a) => a.kind === 'resurrection.off'),
    );
    expect(alert.summary).toContain('slipway resurrection quiet on');
    await new Promise((r) => setTimeout(r, 600));
    expect((await workers('quiet'))[0]).toMatchObject({ vm_cid: worker.vm_cid, state: 'missing' });
    expect((await h.store.tasks.list({ limit: 10, clusterName: 'quiet' })).some((t) => t.type === 'RESURRECT')).toBe(
      false,
    );

    await h.services.health.setResurrection(ADMIN, 'quiet', true);
    const back = await h.waitFor('the worker back', async () => {
      const w = (await workers('quiet'))[0]!;
      return w.state === 'running' && w.vm_cid !== worker.vm_cid ? w : undefined;
    });
    expect(back.ip).toBe(worker.ip);
  });

  it('a resurrection interrupted by a control plane stop resumes after the restart without a second VM', async () => {
    await h.createCluster('phoenix', 'small', 1);
    const before = (await workers('phoenix'))[0]!;
    // A flaky cloud keeps the recreate step busy (retries with backoff) long enough to stop in the middle of it.
    h.rehearsal().failNext('createVm', { code: 'Retryable', message: 'createVm: 503 (injected)' }, 3);
    await h.rehearsal().killVm(before.vm_cid!);
    const task = await h.waitFor('a resurrection task in its recreate step', async () => {
      const t = (await h.store.tasks.list({ limit: 5, clusterName: 'phoenix' })).find(
        (x) => x.type === 'RESURRECT' && ['queued', 'processing'].includes(x.state),
      );
      if (!t) return undefined;
      const steps = await h.store.tasks.steps(t.id);
      return steps.some((s) => s.name === 'recreate' && s.state === 'running') ? t : undefined;
    });
    await h.restart();
    const done = await h.settle(task.id);
    expect(done.state).toBe('done');
    const log = (await h.store.tasks.logs(task.id)).map((l) => l.message);
    expect(log).toContain('resumed after a restart of the control plane');
    const after = (await workers('phoenix'))[0]!;
    expect(after.state).toBe('running');
    const vms = (await h.rehearsal().inventory()).vms.filter((v) => v.metadata['slipway.instance_id'] === before.id);
    expect(vms.map((v) => v.vmId)).toEqual([after.vm_cid]);
    expect((await h.services.health.check(ADMIN, 'phoenix')).problems).toEqual([]);
  });

  it('moves the API endpoint off a master that died, within the detection bound, and brings the master back', async () => {
    const cluster = await h.createCluster('trio', 'ha');
    const masters = (await h.instances('trio')).filter((i) => i.group_name === 'master');
    const first = masters.find((m) => m.ip === cluster.api_address)!;
    expect(first).toBeDefined();
    const killedAt = Date.now();
    await h.rehearsal().killVm(first.vm_cid!);
    const moved = await h.waitFor(
      'the endpoint on another master',
      async () => {
        const c = await h.cluster('trio');
        return c.api_address !== first.ip ? c : undefined;
      },
      5_000,
    );
    expect(Date.now() - killedAt).toBeLessThanOrEqual(
      detectionBounds(healthSettingsOf(h.engine.config), true).missing + 500,
    ); // slack: timers on a loaded 2-core machine
    const rows = await h.instances('trio');
    expect(rows.some((m) => m.group_name === 'master' && m.ip === moved.api_address && m.state === 'running')).toBe(
      true,
    );
    expect(
      (await h.store.events.ofCluster(cluster.uuid)).some(
        (e) => e.kind === 'endpoint.moved' && e.message.includes(`moved from ${first.ip}`),
      ),
    ).toBe(true);
    const back = await h.waitFor('master back on a new VM', async () => {
      const m = (await h.instances('trio')).find((i) => i.id === first.id)!;
      return m.state === 'running' && m.vm_cid !== first.vm_cid ? m : undefined;
    });
    expect(back.ip).toBe(first.ip);
  }, 60_000);
});
