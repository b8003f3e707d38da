import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrationProvider } from '../src/store/migrations.js';
import type { CredentialProvider } from '@slipway/contracts';
import { createTestHost, type TestHost } from '@slipway/testkit/simulation';
import {
  buildJobProperties,
  ClusterSteps,
  createStore,
  JobPropertiesBuilder,
  SystemClock,
  type Store,
} from '../src/index.js';
import type { PluginSet } from '../src/plugins/plugin-set.js';
import { nextFreePodCidr, nodePodCidr } from '../src/agents/pod-cidrs.js';
import type { AgentRegistry } from '../src/agents/agent-registry.js';

const clock = new SystemClock();
const ENGINE = { actor: 'slipway:engine' };

let dir: string;
let store: Store;
let host: TestHost;
let credentials: CredentialProvider;
let steps: ClusterSteps;
const desired: Array<[string, string]> = [];

const cluster = {
  uuid: '00000000-aaaa-4000-8000-000000000012',
  name: 'pods',
  owner: 'alice',
  plan_name: 'small',
  iaas: 'sandbox',
  external_hostname: 'pods.example.test',
  k8s_version: '1.31.4',
  stemcell: 'ubuntu-jammy/1.600',
  master_instances: 3,
  worker_instances: 2,
  api_address: null,
  status: 'active' as const,
  live: 1,
  created_at: new Date().toISOString(),
  updated_at: new Date().toISOString(),
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'slipway-pod-cidrs-'));
  store = await createStore(join(dir, 'slipway.db'));
  host = await createTestHost();
  const credhub = (await import('@slipway/credentials-credhub')).default;
  credentials = await credhub.create({}, host);
  await store.clusters.insert(cluster);
  // planInstances needs only the store, the clock and the agent registry (to mark drains); nothing else is called.
  const agents = {
    setDesired: async (id: string, value: string) => void desired.push([id, value]),
  } as unknown as AgentRegistry;
  steps = new ClusterSteps(store, {} as never, clock, {} as never, {} as never, {} as never, agents, {} as never);
}, 60_000);

afterAll(async () => {
  await credentials?.destroy();
  await store?.db.destroy();
  await host?.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

const row = async () => (await store.clusters.findByUuid(cluster.uuid))!;
const cidrs = async () =>
  Object.fromEntries(
    (await store.instances.ofCluster(cluster.uuid)).map((i) => [`${i.group_name}-${i.idx}`, i.pod_cidr]),
  );

describe('per-node pod CIDRs from the control plane', () => {
  it('gives every node, masters included, its own /24 of the pod network', async () => {
    await steps.planInstances(await row(), 2);
    const all = await cidrs();
    expect(Object.keys(all).sort()).toEqual(['master-0', 'master-1', 'master-2', 'worker-0', 'worker-1']);
    const values = Object.values(all);
    expect(new Set(values).size).toBe(5);
    for (const value of values) expect(value).toMatch(/^10\.200\.\d{1,3}\.0\/24$/);
  });

  it("keeps a node's range when its VM is recreated, and reuses a removed node's range", async () => {
    const before = await cidrs();
    const worker1 = (await store.instances.ofCluster(cluster.uuid)).find(
      (i) => i.group_name === 'worker' && i.idx === 1,
    )!;
    // A resurrection keeps the row (new VM, new agent id): the range stays.
    await store.instances.update(worker1.id, { vm_cid: null, agent_id: 'another-incarnation', ip: null });
    await steps.planInstances(await row(), 2);
    expect(await cidrs()).toEqual(before);
    // A removed instance's row is gone: the next new node gets its range back rather than a fresh one.
    await store.instances.remove(worker1.id);
    await steps.planInstances(await row(), 3);
    const after = await cidrs();
    expect(after['worker-1']).toBe(before['worker-1']);
    expect(after['worker-2']).toBe(nextFreePodCidr('10.200.0.0/16', Object.values(before)));
  });

  it('refuses two nodes of one cluster with the same range (a unique constraint, not luck)', async () => {
    const [a] = await store.instances.ofCluster(cluster.uuid);
    const twin = { ...a!, id: 'twin', idx: 9, agent_id: 'twin-agent' };
    await expect(store.instances.insert([twin])).rejects.toThrow(/UNIQUE|unique/);
  });

  it("sends each node its range, every node's range and address, and who routes them", async () => {
    let n = 0;
    for (const i of await store.instances.ofCluster(cluster.uuid))
      await store.instances.update(i.id, { ip: `10.0.0.${10 + n++}` });
    const instances = await store.instances.ofCluster(cluster.uuid);
    const worker = instances.find((i) => i.group_name === 'worker' && i.idx === 0)!;
    const input = { cluster: await row(), instances, instance: worker, apiPort: 8443 };
    const properties = await buildJobProperties(credentials, ENGINE, input);
    expect(properties.node?.podCidr).toBe(worker.pod_cidr);
    expect(properties.cluster?.podRouting).toBe('host-routes');
    expect(properties.cluster?.nodes).toEqual(
      expect.arrayContaining(
        instances.map((i) => ({ name: `${i.group_name}-${i.idx}`, ip: i.ip, podCidr: i.pod_cidr })),
      ),
    );
    expect(properties.cluster?.nodes).toHaveLength(instances.length);
    const master = await buildJobProperties(
      credentials,
      ENGINE,
      { ...input, instance: instances.find((i) => i.group_name === 'master')!, podRouting: 'network-driver' },
      { skipIssue: true },
    );
    expect(master.node?.podCidr).toMatch(/^10\.200\./);
    expect(master.cluster?.podRouting).toBe('network-driver');
  }, 60_000);

  it('leaves pod routing to the CNI a network profile names, and to a network driver that routes pods', async () => {
    const worker = (await store.instances.ofCluster(cluster.uuid)).find((i) => i.group_name === 'worker')!;
    const now = new Date().toISOString();
    await store.db
      .insertInto('network_profiles')
      .values({
        name: 'antrea',
        description: null,
        parameters: JSON.stringify({ cni_configurations: { type: 'antrea' } }),
        created_by: 'admin',
        created_at: now,
        updated_at: now,
      })
      .execute();
    const builder = (capabilities: string[]) =>
      new JobPropertiesBuilder(
        store,
        { credentials, networkCapabilities: capabilities } as unknown as PluginSet,
        clock,
      );
    expect((await builder([]).propertiesFor(worker)).cluster?.podRouting).toBe('host-routes');
    expect((await builder(['lb', 'pod-routing']).propertiesFor(worker)).cluster?.podRouting).toBe('network-driver');
    await store.db
      .updateTable('clusters')
      .set({ network_profile: 'antrea' })
      .where('uuid', '=', cluster.uuid)
      .execute();
    expect((await builder(['lb', 'pod-routing']).propertiesFor(worker)).cluster?.podRouting).toBe('none');
  }, 60_000);

  it('gives nodes made before allocations their rendered range back (workers by index) and masters free ones', async () => {
    const sqlite = new Database(':memory:');
    // Instance rows alone, without their cluster: the backfill reads nothing else.
    sqlite.pragma('foreign_keys = OFF');
    const db = new Kysely<any>({ dialect: new SqliteDialect({ database: sqlite }) });
    try {
      const migrator = new Migrator({ db, provider: migrationProvider });
      expect((await migrator.migrateTo('0010_cluster_registry')).error).toBeUndefined();
      const now = new Date().toISOString();
      const row = (id: string, group: string, idx: number) => ({
        id,
        cluster_uuid: 'old',
        group_name: group,
        idx,
        agent_id: `agent-${id}`,
        desired: 'present',
        state: 'running',
        desired_generation: 1,
        applied_generation: 1,
        drained: 0,
        created_at: now,
        updated_at: now,
      });
      await db
        .insertInto('instances')
        .values([row('m0', 'master', 0), row('m1', 'master', 1), row('w0', 'worker', 0), row('w2', 'worker', 2)])
        .execute();
      expect((await migrator.migrateToLatest()).error).toBeUndefined();
      const cidrs = Object.fromEntries(
        (await db.selectFrom('instances').select(['id', 'pod_cidr']).execute()).map((r) => [r.id, r.pod_cidr]),
      );
      expect(cidrs).toEqual({ w0: '10.200.0.0/24', w2: '10.200.2.0/24', m0: '10.200.1.0/24', m1: '10.200.3.0/24' });
    } finally {
      await db.destroy();
    }
  });

  it('names the pod network in its errors', () => {
    expect(nodePodCidr('10.200.0.0/16', 255)).toBe('10.200.255.0/24');
    expect(() => nodePodCidr('10.200.0.0/16', 256)).toThrow(/outside 10\.200\.0\.0\/16/);
    expect(() => nextFreePodCidr('10.200.0.0/23', ['10.200.0.0/24', '10.200.1.0/24'])).toThrow(
      /every \/24 of the pod network 10\.200\.0\.0\/23 is in use/,
    );
    expect(() => nodePodCidr('banana', 0)).toThrow(/not an IPv4 CIDR/);
  });
});
