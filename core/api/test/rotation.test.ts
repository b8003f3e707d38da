import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, startTestControlPlane, type TestControlPlane } from './harness.js';

let t: TestControlPlane;
let admin: string;
const dir = mkdtempSync(join(tmpdir(), 'rotation-'));

beforeAll(async () => {
  t = await startTestControlPlane();
  admin = await t.login('admin', ADMIN_PASSWORD);
});
afterAll(async () => {
  await t?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Whether openssl accepts `certPem` under the CA bundle `caPem`. */
function verifies(caPem: string, certPem: string): boolean {
  const ca = join(dir, `ca-${Math.random()}.pem`);
  const cert = join(dir, `cert-${Math.random()}.pem`);
  writeFileSync(ca, caPem);
  writeFileSync(cert, certPem);
  try {
    return execFileSync('openssl', ['verify', '-CAfile', ca, cert], { stdio: 'pipe' }).toString().includes('OK');
  } catch {
    return false;
  }
}

const pem = (b64: string) => Buffer.from(b64, 'base64').toString();

async function kubeconfig(name: string) {
  const kc = (await t.call('POST', `/v1/clusters/${name}/binds`, { token: admin })).body;
  return {
    ca: pem(kc.clusters[0].cluster['certificate-authority-data']),
    cert: pem(kc.users[0].user['client-certificate-data']),
  };
}

async function snapshot(uuid: string) {
  const inv = (await t.call('GET', '/v1/sandbox/sandbox/inventory', { token: admin })).body as {
    vms: Array<{ vmId: string; metadata: Record<string, string> }>;
    disks: Array<{ diskId: string; metadata: Record<string, string> }>;
  };
  return {
    vms: inv.vms
      .filter((v) => v.metadata['slipway.cluster_uuid'] === uuid)
      .map((v) => v.vmId)
      .sort(),
    disks: inv.disks
      .filter((d) => d.metadata['slipway.cluster_uuid'] === uuid)
      .map((d) => d.diskId)
      .sort(),
  };
}

describe('rotate-certificates', () => {
  it('rotates the CAs in three phases, rolling every VM and keeping every disk; afterwards only the new CA is trusted', async () => {
    const res = await t.call('POST', '/v1/clusters', {
      token: admin,
      body: {
        name: 'rot',
        plan_name: 'small',
        parameters: { kubernetes_master_host: 'rot.example.test', kubernetes_worker_instances: 1 },
      },
    });
    expect((await t.waitTask(admin, res.body.task_id)).state).toBe('done');
    const uuid = res.body.uuid as string;
    const before = await snapshot(uuid);
    const old = await kubeconfig('rot');
    expect(verifies(old.ca, old.cert)).toBe(true);

    const rotate = await t.call('POST', '/v1/clusters/rot/rotate-certificates', { token: admin, body: {} });
    expect(rotate.status).toBe(202);
    const task = await t.waitTask(admin, rotate.body.task_id, 60_000);
    expect(task.state, JSON.stringify(task.error)).toBe('done');
    expect(task.steps.map((s: { name: string }) => s.name)).toEqual([
      'add-new-ca',
      'roll-trust',
      'reissue-leaves',
      'roll-leaves',
      'remove-old-ca',
      'roll-final',
    ]);

    const after = await snapshot(uuid);
    expect(after.disks).toEqual(before.disks);
    expect(after.vms.some((vm) => before.vms.includes(vm))).toBe(false);

    const fresh = await kubeconfig('rot');
    expect(verifies(fresh.ca, fresh.cert)).toBe(true);
    // The old CA has left the trust bundle: what it signed no longer verifies.
    expect(verifies(fresh.ca, old.cert)).toBe(false);
    expect(verifies(old.ca, fresh.cert)).toBe(false);
    const ca = await t.call(
      'GET',
      `/api/v1/data?name=${encodeURIComponent(`/slipway/clusters/${uuid}/kubernetes-ca`)}&current=true`,
      { token: admin },
    );
    expect(ca.body.data).toHaveLength(1);
    expect(ca.body.data[0].transitional).toBe(false);
  }, 90_000);

  it('rotates only the leaves under the same CA', async () => {
    const old = await kubeconfig('rot');
    const rotate = await t.call('POST', '/v1/clusters/rot/rotate-certificates', { token: admin, body: { ca: false } });
    const task = await t.waitTask(admin, rotate.body.task_id, 60_000);
    expect(task.state, JSON.stringify(task.error)).toBe('done');
    expect(task.steps.map((s: { name: string }) => s.name)).toEqual(['reissue-leaves', 'roll-leaves']);
    const fresh = await kubeconfig('rot');
    expect(fresh.ca).toBe(old.ca);
    expect(fresh.cert).not.toBe(old.cert);
    expect(verifies(fresh.ca, old.cert)).toBe(true);
  }, 90_000);

  it('refuses a bad body naming the field', async () => {
    const res = await t.call('POST', '/v1/clusters/rot/rotate-certificates', { token: admin, body: { ca: 'yes' } });
    expect(res.status).toBe(400);
    expect(res.body.detail).toContain('ca: must be boolean');
  });
});
