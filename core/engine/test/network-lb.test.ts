import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, testConfig, type Harness } from './health-harness.js';

// The flat network with an external load balancer: the driver writes each cluster's HAProxy config, which is
// what the operator's LB loads, so the pool the engine asked for can be read back from the file.
let h: Harness;
beforeAll(async () => {
  h = await startHarness(testConfig({ network: '    load_balancer: { mode: external, vip_range: 192.0.2.16/28 }' }));
}, 60_000);
afterAll(async () => h?.stop());

const lbConfig = (uuid: string) =>
  readFileSync(join(h.home, 'plugins', 'network', 'default', 'lb', `${uuid}.cfg`), 'utf8');
const poolOf = (text: string) => [...text.matchAll(/^ {2}server m_\S+ (\S+):8443$/gm)].map((m) => m[1]).sort();

describe('a cluster behind a load-balanced API VIP', () => {
  it("gets its VIP from the network step, in the API certificate, and keeps it through a master's resurrection", async () => {
    const cluster = await h.createCluster('lb', 'small');
    expect(cluster.api_address, 'the VIP, not a master').toBe('192.0.2.17');
    const masters = (await h.instances('lb')).filter((i) => i.group_name === 'master');
    expect(poolOf(lbConfig(cluster.uuid)), 'the pool is the masters').toEqual(masters.map((m) => m.ip).sort());
    const create = (await h.store.tasks.list({ limit: 5 })).find(
      (t) => t.type === 'CREATE' && t.cluster_uuid === cluster.uuid,
    )!;
    const networkStep = (await h.store.tasks.steps(create.id)).find((s) => s.name === 'network')!;
    expect(networkStep.detail).toContain('API VIP 192.0.2.17');
    const apiCert = await h.engine.plugins.credentials.get(`/slipway/clusters/${cluster.uuid}/kube-apiserver`, {
      actor: 'slipway:engine',
    });
    const san = new X509Certificate((apiCert.value as { certificate: string }).certificate).subjectAltName ?? '';
    expect(san, 'the API certificate names the VIP, so clients verify it').toContain('IP Address:192.0.2.17');

    const master = masters[0]!;
    await h.rehearsal().killVm(master.vm_cid!);
    const task = await h.waitFor('a resurrection of master/0', async () =>
      (await h.store.tasks.list({ limit: 20 })).find((t) => t.type === 'RESURRECT' && t.cluster_uuid === cluster.uuid),
    );
    const done = await h.settle(task.id);
    expect(done.state, done.error ?? '').toBe('done');
    const steps = await h.store.tasks.steps(task.id);
    expect(steps.find((s) => s.name === 'api-endpoint')?.state, 'the pool update is a step of the resurrection').toBe(
      'done',
    );
    const events = await h.store.events.ofCluster(cluster.uuid);
    expect(
      events.filter((e) => e.kind === 'endpoint.moved'),
      'nothing moves the endpoint outside a task behind a load balancer',
    ).toEqual([]);
    expect((await h.cluster('lb')).api_address, 'clients keep the same address').toBe('192.0.2.17');
    const after = (await h.instances('lb')).filter((i) => i.group_name === 'master');
    expect(poolOf(lbConfig(cluster.uuid))).toEqual(after.map((m) => m.ip).sort());
  }, 120_000);
});
