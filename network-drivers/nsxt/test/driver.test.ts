import { randomUUID } from 'node:crypto';
import { createCertificate } from '@slipway/pki';
import { SlipwayError } from '@slipway/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLUSTER_SCOPE, clusterObjects } from '../src/index.js';
import { FAKE_FLOATING_POOL, FAKE_PRINCIPAL_REF, FAKE_TIER0 } from '../fake/index.js';
import { policyCall, startHarness, type Harness } from './helpers.js';

const prepare = (
  h: Harness,
  id = randomUUID(),
  profile?: Parameters<Harness['driver']['prepareCluster']>[0]['profile'],
) =>
  h.driver
    .prepareCluster({
      clusterId: id,
      clusterName: `c-${id.slice(0, 8)}`,
      iaas: 'vsphere',
      ...(profile ? { profile } : {}),
    })
    .then((net) => ({ id, net }));

describe('NSX-T driver against the fake NSX Manager (principal identity certificate)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('prepares a Tier-1 on the Tier-0, a carved node segment, SNAT, load balancer, groups and an isolating policy, all tagged, in two hierarchical PATCHes', async () => {
    h.fake.resetCalls();
    const { id, net } = await prepare(h);
    expect(h.fake.calls('patchInfra')).toBe(2);
    expect(h.fake.calls('patchTier1') + h.fake.calls('putTier1') + h.fake.calls('patchSegment')).toBe(0);
    const o = clusterObjects(id);
    const obj = (path: string) => h.fake.object(path) as Record<string, any>;
    expect(obj(o.tier1)).toMatchObject({ resource_type: 'Tier1', tier0_path: FAKE_TIER0 });
    expect(net.cidr).toMatch(/^10\.100\.\d+\.0\/24$/);
    expect(obj(o.segment)).toMatchObject({
      connectivity_path: o.tier1,
      subnets: [{ gateway_address: `${net.gateway}/24` }],
    });
    expect(obj(o.natRule)).toMatchObject({
      action: 'SNAT',
      source_network: net.cidr,
      translated_network: net.egressAddresses![0],
    });
    expect(obj(o.lbService)).toMatchObject({ connectivity_path: o.tier1, size: 'SMALL' });
    expect(obj(o.apiVs)).toMatchObject({ ports: ['8443'], pool_path: o.apiPool, lb_service_path: o.lbService });
    expect(obj(o.ingressVs)).toMatchObject({ ports: ['80', '443'], ip_address: net.ingressAddress });
    expect(obj(o.apiPool).active_monitor_paths).toEqual([o.monitor]);
    expect(obj(o.monitor)).toMatchObject({ resource_type: 'LBTcpMonitorProfile', monitor_port: 8443 });
    const rules = Object.fromEntries(
      ['allow-api', 'allow-kube-dns', 'allow-intra-cluster', 'isolate'].map((r) => [r, obj(`${o.policy}/rules/${r}`)]),
    );
    expect(rules['allow-api']).toMatchObject({
      action: 'ALLOW',
      destination_groups: [o.mastersGroup],
      service_entries: [{ destination_ports: ['8443'] }],
    });
    expect(rules['allow-kube-dns']).toMatchObject({
      action: 'ALLOW',
      service_entries: [{ l4_protocol: 'TCP', destination_ports: ['8080'] }],
    });
    expect(rules.isolate).toMatchObject({ action: 'DROP', source_groups: ['ANY'], destination_groups: [o.nodesGroup] });
    expect(rules.isolate.sequence_number).toBeGreaterThan(rules['allow-intra-cluster'].sequence_number);
    const mine = h.fake.inventory().filter((x) => x.tags.some((t) => t.scope === CLUSTER_SCOPE && t.tag === id));
    expect(mine.length).toBeGreaterThanOrEqual(18);
    expect(
      h.fake
        .inventory()
        .filter((x) => x.path.includes(o.prefix) && !x.path.includes('/nat/'))
        .every((x) => x.tags.some((t) => t.tag === id)),
    ).toBe(true);
    expect(net).toMatchObject({ isolated: true });
    await h.driver.teardownCluster({ clusterId: id });
  });

  it('gives two clusters prepared at once different subnets and VIPs', async () => {
    const [a, b] = await Promise.all([prepare(h), prepare(h)]);
    expect(a.net.cidr).not.toBe(b.net.cidr);
    expect(
      new Set([a.net.ingressAddress, b.net.ingressAddress, ...a.net.egressAddresses!, ...b.net.egressAddresses!]).size,
    ).toBe(4);
    await Promise.all([h.driver.teardownCluster({ clusterId: a.id }), h.driver.teardownCluster({ clusterId: b.id })]);
  });

  it('keeps the API pool exactly the masters given, behind a stable VIP', async () => {
    const { id } = await prepare(h);
    const o = clusterObjects(id);
    const ips = await Promise.all(
      ['m0', 'm1', 'm2', 'm3'].map((owner) =>
        h.driver.allocateAddress({ clusterId: id, owner, iaas: 'vsphere' }).then((a) => a.ip),
      ),
    );
    const first = await h.driver.ensureApiEndpoint({ clusterId: id, port: 8443, masters: ips.slice(0, 3) });
    expect(first.loadBalanced).toBe(true);
    const members = () =>
      (h.fake.object(o.apiPool) as { members: Array<{ ip_address: string; port: string }> }).members
        .map((m) => `${m.ip_address}:${m.port}`)
        .sort();
    expect(members()).toEqual(
      ips
        .slice(0, 3)
        .map((ip) => `${ip}:8443`)
        .sort(),
    );
    // The firewall admits 8443 from another cluster to the masters only, not to a worker.
    const other = await prepare(h);
    const outsider = (await h.driver.allocateAddress({ clusterId: other.id, owner: 'w', iaas: 'vsphere' })).ip;
    expect(await h.fake.canReach(outsider, ips[0]!, 8443)).toBe(true);
    expect(await h.fake.canReach(outsider, ips[3]!, 8443)).toBe(false);
    expect(await h.fake.canReach(outsider, first.address, 8443)).toBe(true);
    await h.driver.teardownCluster({ clusterId: other.id });
    // master-1 was recreated with a new address: the pool follows.
    const second = await h.driver.ensureApiEndpoint({
      clusterId: id,
      port: 8443,
      masters: [ips[0]!, ips[3]!, ips[2]!],
    });
    expect(second.address).toBe(first.address);
    expect(members()).toEqual([ips[0]!, ips[3]!, ips[2]!].map((ip) => `${ip}:8443`).sort());
    expect(second.members).toEqual([ips[0]!, ips[2]!, ips[3]!].sort().map((address) => ({ address, healthy: true })));
    // The monitor marks a member DOWN: the endpoint reports it, the pool keeps it (the monitor takes it out of rotation).
    h.fake.setMemberHealth(ips[3]!, 'DOWN');
    const third = await h.driver.ensureApiEndpoint({ clusterId: id, port: 8443, masters: [ips[0]!, ips[3]!, ips[2]!] });
    expect(third.members!.find((m) => m.address === ips[3])).toEqual({ address: ips[3], healthy: false });
    h.fake.setMemberHealth(ips[3]!, 'UP');
    const revision = (h.fake.object(o.apiPool) as { _revision: number })._revision;
    await h.driver.ensureApiEndpoint({ clusterId: id, port: 8443, masters: [ips[2]!, ips[0]!, ips[3]!] });
    expect((h.fake.object(o.apiPool) as { _revision: number })._revision).toBe(revision);
    await h.driver.teardownCluster({ clusterId: id });
  });

  it('tears down every object it made, in an order NSX accepts, and finds none afterwards', async () => {
    const before = h.fake.inventory().length;
    const { id } = await prepare(h);
    await h.driver.allocateAddress({ clusterId: id, owner: 'w0', iaas: 'vsphere' });
    const ip = (await h.driver.allocateAddress({ clusterId: id, owner: 'm0', iaas: 'vsphere' })).ip;
    await h.driver.ensureApiEndpoint({ clusterId: id, port: 8443, masters: [ip] });
    expect((await h.driver.listClusterObjects!()).filter((x) => x.clusterId === id).map((x) => x.id)).toContain(
      clusterObjects(id).segment,
    );
    await h.driver.teardownCluster({ clusterId: id });
    expect(
      h.fake.inventory().filter((x) => x.tags.some((t) => t.tag === id) || x.path.includes(clusterObjects(id).prefix)),
    ).toEqual([]);
    expect(h.fake.inventory()).toHaveLength(before);
    expect((await h.driver.listClusterObjects!()).filter((x) => x.clusterId === id)).toEqual([]);
    await h.driver.teardownCluster({ clusterId: id });
    expect(await h.driver.listAllocations({ clusterId: id })).toEqual([]);
  });

  it('the fake refuses what NSX refuses: a Tier-1 with a segment attached, a child without its parent', async () => {
    const { id } = await prepare(h);
    const o = clusterObjects(id);
    const refused = await policyCall(h.fake, 'DELETE', o.tier1);
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ httpStatus: 'BAD_REQUEST', error_code: 500030, module_name: 'policy' });
    expect(String(refused.body.error_message)).toContain(o.segment);
    const orphan = await policyCall(h.fake, 'PATCH', '/infra/tier-1s/nowhere/locale-services/default', {
      edge_cluster_path: '/infra/sites/default',
    });
    expect(orphan.status).toBe(400);
    expect(String(orphan.body.error_message)).toContain('/infra/tier-1s/nowhere');
    await h.driver.teardownCluster({ clusterId: id });
  });

  it('the fake applies a hierarchical PATCH all or nothing, and checks PUT revisions', async () => {
    const tree = {
      resource_type: 'Infra',
      children: [
        { resource_type: 'ChildTier1', Tier1: { resource_type: 'Tier1', id: 'atomic-t1', tier0_path: FAKE_TIER0 } },
        {
          resource_type: 'ChildSegment',
          Segment: { resource_type: 'Segment', id: 'atomic-seg', connectivity_path: '/infra/tier-1s/missing' },
        },
      ],
    };
    const refused = await policyCall(h.fake, 'PATCH', '/infra', tree);
    expect(refused.status).toBe(400);
    expect(String(refused.body.error_message)).toContain('/infra/tier-1s/missing');
    expect(h.fake.object('/infra/tier-1s/atomic-t1'), 'the valid half of the tree was not applied').toBeUndefined();
    expect((await policyCall(h.fake, 'PUT', '/infra/tier-1s/atomic-t1', { tier0_path: FAKE_TIER0 })).status).toBe(200);
    const stale = await policyCall(h.fake, 'PUT', '/infra/tier-1s/atomic-t1', { tier0_path: FAKE_TIER0, _revision: 7 });
    expect(stale).toMatchObject({ status: 412, body: { httpStatus: 'PRECONDITION_FAILED', error_code: 604 } });
    expect(
      (await policyCall(h.fake, 'PUT', '/infra/tier-1s/atomic-t1', { tier0_path: FAKE_TIER0, _revision: 0 })).status,
    ).toBe(200);
    expect(
      (await policyCall(h.fake, 'PATCH', '/infra/tier-1s/atomic-t1', { display_name: 'x', _revision: 99 })).status,
      'PATCH ignores _revision',
    ).toBe(200);
    expect((await policyCall(h.fake, 'DELETE', '/infra/tier-1s/atomic-t1')).status).toBe(200);
  });

  it('a stale _revision on the LB pool is a retryable Conflict; asking again converges', async () => {
    const { id } = await prepare(h);
    const o = clusterObjects(id);
    const ip = (await h.driver.allocateAddress({ clusterId: id, owner: 'm0', iaas: 'vsphere' })).ip;
    h.fake.writeAfterNextRead(o.apiPool);
    const error = await h.driver
      .ensureApiEndpoint({ clusterId: id, port: 8443, masters: [ip] })
      .catch((e: unknown) => e);
    expect(SlipwayError.is(error, 'Conflict')).toBe(true);
    expect((error as SlipwayError).retryable).toBe(true);
    expect((error as SlipwayError).message).toMatch(/412.*modified by somebody else/);
    await h.driver.ensureApiEndpoint({ clusterId: id, port: 8443, masters: [ip] });
    expect(
      (h.fake.object(o.apiPool) as { members: Array<{ ip_address: string }> }).members.map((m) => m.ip_address),
    ).toEqual([ip]);
    await h.driver.teardownCluster({ clusterId: id });
  });

  it("a realization error surfaces with NSX's alarm text; the next prepare converges", async () => {
    const id = randomUUID();
    h.fake.failRealization(
      clusterObjects(id).tier1,
      'Edge cluster edge-cluster-1 has no capacity for another Tier-1 service router.',
    );
    const error = await prepare(h, id).catch((e: unknown) => e);
    expect(SlipwayError.is(error, 'CloudError')).toBe(true);
    expect((error as SlipwayError).message).toContain('no capacity for another Tier-1 service router');
    expect((error as SlipwayError).message).toContain(clusterObjects(id).tier1);
    const { net } = await prepare(h, id);
    expect(net.cidr).toMatch(/\/24$/);
    await h.driver.teardownCluster({ clusterId: id });
  });

  it('maps throttling to RateLimited with Retry-After, 503 to Retryable, and does not retry on its own', async () => {
    h.fake.faults.throttleNext('patchInfra');
    const throttled = await prepare(h).catch((e: unknown) => e);
    expect(SlipwayError.is(throttled, 'RateLimited')).toBe(true);
    expect((throttled as SlipwayError).retryAfterMs).toBe(1000);
    h.fake.faults.serverErrorNext('patchIpAllocation');
    const { id } = await prepare(h);
    const unavailable = await h.driver
      .allocateAddress({ clusterId: id, owner: 'x', iaas: 'vsphere' })
      .catch((e: unknown) => e);
    expect(SlipwayError.is(unavailable, 'Retryable')).toBe(true);
    expect((unavailable as SlipwayError).message).toContain('Some appliance components are not functioning properly');
    await h.driver.teardownCluster({ clusterId: id });
  });

  it('a prepare retried after a throttled step resumes there; a prepare after success asks NSX for everything again', async () => {
    const id = randomUUID();
    h.fake.failNext('getRealizedEntities', {
      status: 429,
      message: "Client 'admin' exceeded request rate of 100 per second",
      retryAfter: 1,
    });
    await expect(prepare(h, id)).rejects.toMatchObject({ code: 'RateLimited' });
    h.fake.resetCalls();
    await prepare(h, id);
    expect(h.fake.calls('patchInfra'), 'the accepted routing PATCH is not sent again, the cluster PATCH is').toBe(1);
    h.fake.resetCalls();
    await prepare(h, id);
    expect(h.fake.calls('patchInfra'), 'a finished prepare keeps nothing: both PATCHes go out again').toBe(2);
    await h.driver.teardownCluster({ clusterId: id });
  });

  it('a running cluster keeps its VIPs and Tier-0 when its profile changes; the updatable nodes_dns follows', async () => {
    const { id, net } = await prepare(h);
    const o = clusterObjects(id);
    const vip = (h.fake.object(o.apiVs) as { ip_address: string }).ip_address;
    const { net: changed } = await prepare(h, id, {
      name: 'later',
      parameters: { t0_router_id: 'another-t0', fip_pool_ids: ['another-pool'], nodes_dns: ['10.53.0.10'] },
    });
    expect(changed).toMatchObject({
      cidr: net.cidr,
      ingressAddress: net.ingressAddress,
      egressAddresses: net.egressAddresses,
      dns: ['10.53.0.10'],
    });
    expect((h.fake.object(o.apiVs) as { ip_address: string }).ip_address).toBe(vip);
    expect(h.fake.object(o.tier1)).toMatchObject({ tier0_path: FAKE_TIER0 });
    expect((await h.driver.allocateAddress({ clusterId: id, owner: 'w0', iaas: 'vsphere' })).dns).toEqual([
      '10.53.0.10',
    ]);
    await h.driver.teardownCluster({ clusterId: id });
  });

  it('honours an abort while waiting for realization', async () => {
    h.fake.setRealizationDelay(60_000);
    const controller = new AbortController();
    const pending = h.driver.prepareCluster(
      { clusterId: randomUUID(), clusterName: 'slow', iaas: 'vsphere' },
      { signal: controller.signal },
    );
    setTimeout(() => controller.abort(), 100);
    await expect(pending).rejects.toMatchObject({ code: 'Cancelled' });
    h.fake.setRealizationDelay(0);
  });

  it('follows a network profile: its Tier-0, floating pool, LB size and a separate LB Tier-1', async () => {
    const { id } = await prepare(h, randomUUID(), {
      name: 'p',
      parameters: {
        t0_router_id: 't0-slipway',
        fip_pool_ids: ['slipway-floating'],
        single_tier_topology: false,
        lb_size: 'medium',
        infrastructure_networks: ['192.168.10.0/24'],
      },
    });
    const o = clusterObjects(id);
    expect(h.fake.object(o.lbService)).toMatchObject({ connectivity_path: o.lbTier1, size: 'MEDIUM' });
    expect(h.fake.object(o.lbTier1)).toMatchObject({ tier0_path: FAKE_TIER0 });
    expect(h.fake.object(`${FAKE_FLOATING_POOL}/ip-allocations/${o.apiVipAllocation}`)).toBeDefined();
    // infrastructure_networks reach every node; anything else from outside does not.
    const node = (await h.driver.allocateAddress({ clusterId: id, owner: 'w0', iaas: 'vsphere' })).ip;
    expect(await h.fake.canReach('192.168.10.5', node, 22)).toBe(true);
    expect(await h.fake.canReach('192.168.11.5', node, 22)).toBe(false);
    await h.driver.teardownCluster({ clusterId: id });
    expect(h.fake.inventory().filter((x) => x.path.includes(o.prefix))).toEqual([]);
  });
});

describe('NSX-T driver auth modes', () => {
  it('session auth logs in with j_username/j_password and logs in again when NSX expires the session', async () => {
    const h = await startHarness({ auth: 'session' });
    try {
      const { id } = await prepare(h);
      expect(h.fake.calls('createSession')).toBe(1);
      h.fake.expireSessions();
      const a = await h.driver.allocateAddress({ clusterId: id, owner: 'm0', iaas: 'vsphere' });
      expect(a.ip).toMatch(/^10\.100\./);
      expect(h.fake.calls('createSession')).toBe(2);
      await h.driver.teardownCluster({ clusterId: id });
    } finally {
      await h.stop();
    }
  });

  it('an NSX Manager whose certificate is not trusted is a permanent error naming ca_certificate', async () => {
    const h = await startHarness({ auth: 'basic', config: { ca_certificate: undefined } });
    try {
      const error = await prepare(h).catch((e: unknown) => e);
      expect(SlipwayError.is(error, 'CloudError')).toBe(true);
      expect((error as SlipwayError).retryable).toBe(false);
      expect((error as SlipwayError).hint).toContain('ca_certificate');
    } finally {
      await h.stop();
    }
  });

  it('lists allocations whose address NSX shows only in the realized state', async () => {
    const h = await startHarness({ allocationIpInIntent: false });
    try {
      const { id } = await prepare(h);
      const a = await h.driver.allocateAddress({ clusterId: id, owner: 'master-0', iaas: 'vsphere' });
      expect(await h.driver.listAllocations({ clusterId: id })).toEqual([a]);
      await h.driver.teardownCluster({ clusterId: id });
    } finally {
      await h.stop();
    }
  });

  it('basic auth with a wrong password is Unauthenticated, naming the credential to fix', async () => {
    const probe = await startHarness({ auth: 'basic' });
    const credentials = probe.fake.credentials.map((c) =>
      c.type === 'user' ? { ...c, value: { username: 'admin', password: 'wrong' } } : c,
    );
    await probe.stop();
    const h = await startHarness({ auth: 'basic', credentials });
    try {
      const error = await prepare(h).catch((e: unknown) => e);
      expect(SlipwayError.is(error, 'Unauthenticated')).toBe(true);
      expect((error as SlipwayError).hint).toMatch(/credentials_ref/);
    } finally {
      await h.stop();
    }
  });

  it('a client certificate the manager did not issue is refused; a missing certificate credential is a config error', async () => {
    const probe = await startHarness();
    const stranger = await createCertificate({
      subject: { commonName: 'slipway-pi' },
      extendedKeyUsage: ['client_auth'],
      days: 1,
      keyAlgorithm: 'ecdsa-p256',
    });
    const credentials = probe.fake.credentials.map((c) =>
      c.name === FAKE_PRINCIPAL_REF
        ? { ...c, value: { ca: null, certificate: stranger.certificatePem, private_key: stranger.privateKeyPem } }
        : c,
    );
    await probe.stop();
    const h = await startHarness({ credentials });
    try {
      expect(SlipwayError.is(await prepare(h).catch((e: unknown) => e), 'Unauthenticated')).toBe(true);
    } finally {
      await h.stop();
    }
    await expect(startHarness({ config: { credentials_ref: '/slipway/network/nsxt-admin' } })).rejects.toMatchObject({
      code: 'InvalidConfig',
      field: 'credentials_ref',
    });
  });
});
