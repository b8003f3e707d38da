import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CertificateValue, Clock } from '@slipway/contracts';
import { clusterCertificates, ENGINE_ACTOR, SystemClock, type CertificateEntry } from '../src/index.js';
import { ADMIN, startHarness, testConfig, type Harness } from './health-harness.js';

const DAY = 86_400_000;

/** The wall clock moved by `offset`: what the control plane sees after a long, simulated absence. */
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
const dir = mkdtempSync(join(tmpdir(), 'renewal-'));
let h: Harness;

beforeAll(async () => {
  h = await startHarness(testConfig({ top: 'certificates: { check_interval_seconds: 0.3 }' }), { clock });
}, 60_000);
afterAll(async () => {
  await h?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** openssl verify of `certPem` under `caPem`, at the control plane's time (and so at the wall clock's too). */
function verifies(caPem: string, certPem: string, at = clock.now()): boolean {
  const ca = join(dir, `ca-${Math.random()}.pem`);
  const cert = join(dir, `cert-${Math.random()}.pem`);
  writeFileSync(ca, caPem);
  writeFileSync(cert, certPem);
  try {
    return execFileSync('openssl', ['verify', '-attime', String(Math.floor(at / 1000)), '-CAfile', ca, cert], {
      stdio: 'pipe',
    })
      .toString()
      .includes(': OK');
  } catch {
    return false;
  }
}

async function certificates(uuid: string): Promise<CertificateEntry[]> {
  return (await clusterCertificates(h.engine.plugins.credentials, uuid, clock.now())).filter((c) => c.kind !== 'agent');
}

describe('certificates that renew themselves', () => {
  it('on a clock moved past the threshold, alerts, replaces every leaf through a rolling task, then clears the alert', async () => {
    const cluster = await h.createCluster('renew', 'small', 1);
    await h.services.clusters.bind(ADMIN, 'renew'); // a user's kubeconfig certificate is a leaf too
    const before = await certificates(cluster.uuid);
    const leavesBefore = new Map(before.filter((c) => c.kind !== 'ca').map((c) => [c.name, c]));
    const casBefore = new Map(before.filter((c) => c.kind === 'ca').map((c) => [c.name, c.serial]));
    expect(leavesBefore.size).toBeGreaterThan(10);
    // Users' kubeconfig certificates are short-lived (kubernetes.user_certificate_days, 7): the rest live a year.
    expect([...leavesBefore.values()].filter((c) => c.kind !== 'user').every((c) => c.days_left >= 364)).toBe(true);
    expect([...leavesBefore.values()].filter((c) => c.kind === 'user').map((c) => c.days_left)).toEqual([7]);
    const vmsBefore = (await h.instances('renew')).map((i) => i.vm_cid);

    // 340 days later, the control plane starts again: every leaf has 25 days left, inside renew_before_days (30).
    await h.restart(() => {
      clock.offset = 340 * DAY;
    });
    const started = Date.now();
    const rotation = await h.waitFor(
      'an automatic renewal task',
      async () => (await h.store.tasks.list({ limit: 20 })).find((t) => t.type === 'ROTATE'),
      20_000,
    );
    expect(JSON.parse(rotation.params)).toEqual({ mode: 'leaf', automatic: true });
    const alert = await h.waitFor(
      'the 30-day alert',
      async () =>
        (await h.store.db.selectFrom('alerts').selectAll().where('kind', '=', 'certificate.expiring').execute())[0],
    );
    expect(alert.severity).toBe('warning');
    expect(alert.title).toMatch(/certificate\(s\) of cluster renew expire within 30 days/);
    expect(alert.cluster_uuid).toBe(cluster.uuid);

    const done = await h.settle(rotation.id);
    expect(done.state, done.error ?? '').toBe('done');
    const renewalMs = Date.now() - started;

    const after = await certificates(cluster.uuid);
    for (const leaf of after.filter((c) => c.kind !== 'ca')) {
      const old = leavesBefore.get(leaf.name);
      if (!old) continue;
      expect(leaf.serial, leaf.name).not.toBe(old.serial);
      // A reissued user certificate keeps its short lifetime.
      if (leaf.kind === 'user') expect(leaf.days_left, leaf.name).toBeLessThanOrEqual(7);
      else expect(leaf.days_left, leaf.name).toBeGreaterThan(30);
    }
    expect(
      after
        .filter((c) => c.kind !== 'ca')
        .map((c) => c.name)
        .sort(),
    ).toEqual([...leavesBefore.keys()].sort());
    // The CAs stay: a leaf rotation reissues under them, and openssl still verifies every leaf.
    expect(new Map(after.filter((c) => c.kind === 'ca').map((c) => [c.name, c.serial]))).toEqual(casBefore);
    const creds = h.engine.plugins.credentials;
    for (const leaf of after.filter((c) => c.kind !== 'ca')) {
      const value = (await creds.get(`/slipway/clusters/${cluster.uuid}/${leaf.name}`, ENGINE_ACTOR))
        .value as CertificateValue;
      expect(verifies(value.ca!, value.certificate), leaf.name).toBe(true);
    }
    // Rolled through the cluster: every VM replaced, one at a time, nothing failed.
    const vmsAfter = (await h.instances('renew')).map((i) => i.vm_cid);
    expect(vmsAfter.some((vm) => vmsBefore.includes(vm))).toBe(false);
    const tasks = await h.store.tasks.list({ limit: 50 });
    expect(tasks.filter((t) => t.state !== 'done').map((t) => `${t.type} ${t.state}`)).toEqual([]);

    // The alert is cleared (its record goes, an event says so) and no second renewal starts.
    await h.waitFor(
      'the alert cleared',
      async () =>
        !(await h.store.db
          .selectFrom('certificate_alerts')
          .selectAll()
          .where('scope', '=', cluster.uuid)
          .executeTakeFirst()),
    );
    const events = await h.store.events.ofCluster(cluster.uuid, 100);
    expect(events.some((e) => e.kind === 'certificates.renewed')).toBe(true);
    await new Promise((r) => setTimeout(r, 1_000));
    expect((await h.store.tasks.list({ limit: 50 })).filter((t) => t.type === 'ROTATE')).toHaveLength(1);
    expect(
      await h.store.db.selectFrom('alerts').select('id').where('kind', '=', 'certificate.expiring').execute(),
    ).toHaveLength(1);
    console.log(
      `automatic leaf renewal of a 1-master, 1-worker sandbox cluster: ${renewalMs} ms from restart to task done`,
    );
  }, 120_000);

  it('gives a cluster whose CAs come within ca_renew_before_days a scheduled three-phase CA rotation', async () => {
    const cluster = await h.cluster('renew');
    const cas = (await certificates(cluster.uuid)).filter((c) => c.kind === 'ca');
    expect(cas.map((c) => c.name).sort()).toEqual(['etcd-ca', 'front-proxy-ca', 'kubernetes-ca']);
    // 3,400 days after creation: the CAs have 250 days left (inside the default 365), every leaf has long expired.
    await h.restart(() => {
      clock.offset = 3400 * DAY;
    });
    const rotation = await h.waitFor(
      'an automatic CA rotation',
      async () =>
        (await h.store.tasks.list({ limit: 50 })).find(
          (t) => t.type === 'ROTATE' && JSON.parse(t.params).mode === 'ca',
        ),
      20_000,
    );
    const done = await h.settle(rotation.id);
    expect(done.state, done.error ?? '').toBe('done');
    expect((await h.store.tasks.steps(rotation.id)).map((s) => s.name)).toEqual([
      'add-new-ca',
      'roll-trust',
      'reissue-leaves',
      'roll-leaves',
      'remove-old-ca',
      'roll-final',
    ]);
    const after = await certificates(cluster.uuid);
    for (const ca of after.filter((c) => c.kind === 'ca')) {
      expect(ca.serial, ca.name).not.toBe(cas.find((c) => c.name === ca.name)!.serial);
      expect(ca.days_left, ca.name).toBeGreaterThan(3000);
      expect(ca.transitional, ca.name).toBe(false);
    }
    // The leaves were reissued under the new CAs, which verify them at the control plane's time.
    const creds = h.engine.plugins.credentials;
    for (const leaf of after.filter((c) => c.kind !== 'ca')) {
      expect(leaf.days_left, leaf.name).toBeGreaterThan(leaf.kind === 'user' ? 5 : 300);
      const value = (await creds.get(`/slipway/clusters/${cluster.uuid}/${leaf.name}`, ENGINE_ACTOR))
        .value as CertificateValue;
      expect(verifies(value.ca!, value.certificate), leaf.name).toBe(true);
    }
    // Expired leaves alerted as critical before the rotation replaced them.
    const critical = await h.store.db
      .selectFrom('alerts')
      .selectAll()
      .where('kind', '=', 'certificate.expiring')
      .where('severity', '=', 'critical')
      .execute();
    expect(critical.map((a) => a.title)).toEqual([
      expect.stringMatching(/certificate\(s\) of cluster renew have expired/),
    ]);
    expect((await h.store.tasks.list({ limit: 50 })).filter((t) => t.state !== 'done')).toEqual([]);
  }, 120_000);
});

describe('the API serving certificate', () => {
  const cpClock = new MovableClock();
  let cp: Harness;
  beforeAll(async () => {
    cp = await startHarness(testConfig({ top: 'certificates: { check_interval_seconds: 0.3 }' }), { clock: cpClock });
  }, 60_000);
  afterAll(async () => cp?.stop());

  it('is renewed near its expiry and served to new connections without a restart', async () => {
    const serial = () =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(
          { host: '127.0.0.1', port: Number(new URL(cp.url).port), ca: [cp.engine.tls.caPem], servername: 'localhost' },
          () => {
            resolve(socket.getPeerX509Certificate()!.serialNumber);
            socket.end();
          },
        );
        socket.on('error', reject);
      });
    const first = await serial();
    // 730-day serving certificate: 20 days left, inside renew_before_days. No VM exists, so nothing else ages.
    cpClock.offset = 710 * DAY;
    const renewed = await h.waitFor(
      'a new serving certificate on a new connection',
      async () => {
        const now = await serial();
        return now !== first ? now : undefined;
      },
      20_000,
    );
    expect(renewed).not.toBe(first);
    expect(cp.lines.some((l) => l.includes('API serving certificate renewed and reloaded'))).toBe(true);
    // The renewed certificate is the stored one, valid far past the threshold by the control plane's clock.
    const stored = (await cp.engine.plugins.credentials.get('/slipway/control-plane/server', ENGINE_ACTOR))
      .value as CertificateValue;
    expect(cp.engine.tls.cert).toBe(stored.certificate);
  }, 60_000);
});

describe('renewals across clusters', () => {
  const fleetClock = new MovableClock();
  let f: Harness;
  beforeAll(async () => {
    f = await startHarness(
      testConfig({ top: 'certificates: { check_interval_seconds: 0.2, max_concurrent_renewals: 1 }' }),
      { clock: fleetClock },
    );
  }, 60_000);
  afterAll(async () => f?.stop());

  it('renews one cluster at a time with max_concurrent_renewals: 1, the next at a later check', async () => {
    for (const name of ['one', 'two', 'three']) await f.createCluster(name, 'small', 1);
    await f.restart(() => {
      fleetClock.offset = 340 * DAY;
    });
    let most = 0;
    const rotations = await f.waitFor(
      'three automatic renewals, done',
      async () => {
        const tasks = (await f.store.tasks.list({ limit: 50 })).filter((t) => t.type === 'ROTATE');
        most = Math.max(most, tasks.filter((t) => ['queued', 'processing', 'cancelling'].includes(t.state)).length);
        return tasks.length === 3 && tasks.every((t) => t.state === 'done') ? tasks : undefined;
      },
      90_000,
    );
    expect(most).toBe(1);
    expect(new Set(rotations.map((t) => t.cluster_name))).toEqual(new Set(['one', 'two', 'three']));
    expect(rotations.every((t) => JSON.parse(t.params).automatic === true)).toBe(true);
  }, 150_000);
});
