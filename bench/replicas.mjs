// Control plane replicas on one PostgreSQL (issue 15): cluster creates per minute with 1, 2 and 3 replicas
// against a fake OpenStack in its own process with cloud-like latencies, and the time until another replica takes
// over after kill -9 of a task's owner and of the leader (median and max over a few runs).
// Needs SLIPWAY_TEST_PG_URL (a role that may create databases); prints why and exits 0 without it.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createStore, importCredentials, silentLogger } from '@slipway/engine';
import { storeMatrix } from '@slipway/testkit/store-matrix';
import { Replica, freePort, startBalancer, startCloud, writeReplicaConfig } from '../test/support/replica-rig.mjs';
import { fmt, median } from './lib.mjs';

const CLUSTERS = Number(process.env.BENCH_CLUSTERS ?? 12);
const KILLS = Number(process.env.BENCH_KILLS ?? 3);
// Production lease timings (docs/ha.md): a takeover is bounded by lease + claim interval, 12 s.
const LEASE = { lease_seconds: 10, renew_interval_seconds: 3, claim_interval_seconds: 2 };
// Cloud-like: every API call 150 ms, a VM 4 s from pending to running.
const CLOUD = { latencyMs: 150, buildMs: 4000 };
const PASSWORD = 'bench-replicas-password';

const target = (await storeMatrix()).find((t) => t.dialect === 'postgres');
if (target.skip) {
  console.log(`replicas: skipped (${target.skip})`);
  process.exit(0);
}
process.env.SLIPWAY_REPLICAS_KEK = randomBytes(32).toString('base64');

/** n replicas, a balancer and a cloud on a fresh database; `work` gets them and returns what it measured. */
async function withReplicas(n, work) {
  const root = mkdtempSync(join(tmpdir(), 'slipway-bench-replicas-'));
  const storeUrl = await target.fresh({ schema: true });
  const cloud = await startCloud(CLOUD);
  const balancer = await startBalancer();
  const configPath = join(root, 'slipway.yaml');
  writeReplicaConfig(configPath, {
    storeUrl,
    cloud,
    balancerPort: balancer.port,
    replicas: LEASE,
    heartbeatSeconds: 5,
  });
  const ports = await Promise.all(Array.from({ length: n }, () => freePort()));
  const replicas = ports.map((port, i) => new Replica(`r${i}`, { root, configPath, password: PASSWORD, port }));
  await importCredentials({ home: replicas[0].home, configPath, logger: silentLogger, entries: cloud.credentials });
  await replicas[0].start();
  await Promise.all(replicas.slice(1).map((r) => r.start()));
  balancer.setBackends(ports);
  const store = await createStore(storeUrl);
  try {
    return await work({ replicas, store });
  } finally {
    await Promise.all(replicas.map((r) => r.stop().catch(() => {})));
    await store.db.destroy();
    await balancer.stop();
    await cloud.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

const waitTasks = async (store, ids, timeoutMs = 600_000) => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = await store.db.selectFrom('tasks').select(['id', 'state', 'error']).where('id', 'in', ids).execute();
    if (rows.every((r) => !['queued', 'processing', 'cancelling'].includes(r.state))) return rows;
    if (Date.now() > deadline) throw new Error('tasks did not end in time');
    await new Promise((r) => setTimeout(r, 200));
  }
};

async function createAll(replicas, names) {
  const tokens = await Promise.all(replicas.map((r) => r.api().login('admin', PASSWORD)));
  const created = await Promise.all(
    names.map((name, i) => {
      const k = i % replicas.length;
      return replicas[k].api().call('POST', '/v1/clusters', {
        token: tokens[k],
        body: { name, plan_name: 'small', parameters: { kubernetes_master_host: `${name}.example.test` } },
      });
    }),
  );
  return created.map((r) => r.body.task_id);
}

for (const n of [1, 2, 3]) {
  await withReplicas(n, async ({ replicas, store }) => {
    const t0 = performance.now();
    const ids = await createAll(
      replicas,
      Array.from({ length: CLUSTERS }, (_, i) => `c${i}`),
    );
    const rows = await waitTasks(store, ids);
    const minutes = (performance.now() - t0) / 60_000;
    const failed = rows.filter((r) => r.state !== 'done');
    console.log(
      `replicas: ${n} replica(s), ${CLUSTERS} creates (2 VMs each): ${fmt(CLUSTERS / minutes, 1)} creates/min${failed.length ? `, ${failed.length} failed: ${failed[0].error}` : ''}`,
    );
  });
}

// Takeover: kill -9 the owner of a running create, then the leader; time until another replica holds each.
await withReplicas(3, async ({ replicas, store }) => {
  const owner = [];
  const leader = [];
  for (let run = 0; run < KILLS; run++) {
    const [id] = await createAll(replicas, [`t${run}`]);
    // Well into the create (VMs booting), so there is work to take over.
    await new Promise((r) => setTimeout(r, 2000));
    const task = await store.tasks.get(id);
    const victim = replicas.find((r) => task.owner?.includes(`/${r.pid}/`));
    if (!victim || task.state !== 'processing') throw new Error(`task ${id} is ${task.state} on ${task.owner}`);
    const killedAt = Date.now();
    await victim.crash();
    for (;;) {
      const row = await store.tasks.get(id);
      if (row.owner && !row.owner.includes(`/${victim.pid}/`)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    owner.push(Date.now() - killedAt);
    await victim.start();
    await waitTasks(store, [id]);

    const holder = (await store.db.selectFrom('leader').select('holder').executeTakeFirstOrThrow()).holder;
    const chief = replicas.find((r) => holder.includes(`/${r.pid}/`));
    const leaderKilledAt = Date.now();
    await chief.crash();
    for (;;) {
      const row = await store.db.selectFrom('leader').select(['holder', 'expires_at']).executeTakeFirst();
      if (row && !row.holder.includes(`/${chief.pid}/`)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    leader.push(Date.now() - leaderKilledAt);
    await chief.start();
  }
  const s = (xs) => `median ${fmt(median(xs) / 1000, 1)} s, max ${fmt(Math.max(...xs) / 1000, 1)} s`;
  console.log(
    `replicas: takeover after kill -9 of a task's owner (lease ${LEASE.lease_seconds} s, claim every ${LEASE.claim_interval_seconds} s): ${s(owner)} over ${KILLS} runs`,
  );
  console.log(`replicas: takeover after kill -9 of the leader: ${s(leader)} over ${KILLS} runs`);
});
await target.dispose();
