import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStore, importCredentials, silentLogger, type Store } from '@slipway/engine';
import { storeMatrix } from '@slipway/testkit/store-matrix';
// @ts-expect-error: a plain ES module shared with bench/replicas.mjs
import { Replica, freePort, startBalancer, startCloud, writeReplicaConfig } from './support/replica-rig.mjs';

/**
 * Three `slipway up` replicas on one PostgreSQL, a fake OpenStack in its own process (it outlives every replica),
 * agents dialing a TCP balancer in front of the replicas. Twenty creates, resizes and deletes run while a
 * random replica is killed with SIGKILL every few seconds and restarted. Takeover is bounded by lease + claim interval, 10.5 s.
 */
// The production lease (10 s): on a loaded 2-core machine PKI generation stalls a replica's event loop for
// seconds, and a shorter lease is then lost by a replica that is alive. Claims are looked for more often.
const LEASE = { lease_seconds: 10, renew_interval_seconds: 2, claim_interval_seconds: 0.5 };
const PASSWORD = 'replicas-failover-password';
const CLUSTERS = 10;
const pgTarget = (await storeMatrix()).find((t) => t.dialect === 'postgres')!;
// Opt-in until its last failure mode is fixed (an agent that stops converging after kills, seen on a loaded
// machine): SLIPWAY_TEST_FAILOVER=1 with SLIPWAY_TEST_PG_URL runs it.
const skip =
  pgTarget.skip ||
  (process.env.SLIPWAY_TEST_FAILOVER !== '1' &&
    'SLIPWAY_TEST_FAILOVER is not 1 (the failover run is opt-in; it takes about 3 minutes)');

interface Kill {
  replica: string;
  pid: number;
  at: number;
  owned: number[];
  leader: boolean;
  takenOverMs?: number;
  leaderTakenOverMs?: number;
}
interface LogRow {
  task_id: number;
  at: string;
  message: string;
}

describe.skipIf(skip)(`three replicas on one PostgreSQL${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const root = mkdtempSync(join(tmpdir(), 'slipway-replicas-'));
  let cloud: any;
  let balancer: any;
  let replicas: any[] = [];
  let store: Store;

  beforeAll(async () => {
    const storeUrl = await pgTarget.fresh({ schema: true });
    process.env.SLIPWAY_REPLICAS_KEK = randomBytes(32).toString('base64');
    cloud = await startCloud({ latencyMs: 15, buildMs: 300 });
    balancer = await startBalancer();
    const configPath = join(root, 'slipway.yaml');
    writeReplicaConfig(configPath, { storeUrl, cloud, balancerPort: balancer.port, replicas: LEASE });
    const ports = [await freePort(), await freePort(), await freePort()];
    replicas = ['a', 'b', 'c'].map(
      (name, i) => new Replica(name, { root, configPath, password: PASSWORD, port: ports[i] }),
    );
    // The cloud's keys go into the shared credential store once, before any replica starts its drivers.
    await importCredentials({ home: replicas[0].home, configPath, logger: silentLogger, entries: cloud.credentials });
    // The first start migrates the database; the others find it migrated.
    await replicas[0].start();
    await Promise.all(replicas.slice(1).map((r) => r.start()));
    balancer.setBackends(ports);
    store = await createStore(storeUrl);
  }, 180_000);

  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.stop().catch(() => {})));
    await store?.db.destroy();
    await balancer?.stop();
    await cloud?.stop();
    await pgTarget.dispose();
    rmSync(root, { recursive: true, force: true });
  });

  it('finishes every task once under kill -9 of random replicas, each kill taken over within 15 s, the cloud matching the store', async () => {
    const alive = () => replicas.filter((r) => r.alive);
    const anyApi = () => {
      const live = alive();
      return live[Math.floor(Math.random() * live.length)].api();
    };
    // An API call through any live replica; a replica killed mid-call is just another try.
    const call = async (method: string, path: string, body?: unknown): Promise<any> => {
      const deadline = Date.now() + 60_000;
      for (;;) {
        try {
          const api = anyApi();
          const token = await api.login('admin', PASSWORD);
          const res = await api.call(method, path, { token, body });
          if (res.status < 500) return res;
        } catch (e) {
          if (Date.now() > deadline) throw e;
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    };

    // Chaos: every few seconds one replica dies without a chance to let go of anything, and comes back.
    const kills: Kill[] = [];
    let chaos = true;
    const chaosLoop = (async () => {
      await new Promise((r) => setTimeout(r, 3000));
      while (chaos) {
        const live = alive();
        if (live.length === replicas.length) {
          const victim = live[Math.floor(Math.random() * live.length)];
          const owned = (
            await store.db
              .selectFrom('tasks')
              .select('id')
              .where('owner', 'like', `%/${victim.pid}/%`)
              .where('state', 'in', ['queued', 'processing', 'cancelling'])
              .execute()
          ).map((t) => t.id);
          const leader =
            (await store.db.selectFrom('leader').select('holder').executeTakeFirst())?.holder.includes(
              `/${victim.pid}/`,
            ) ?? false;
          const kill: Kill = { replica: victim.name, pid: victim.pid, at: Date.now(), owned, leader };
          await victim.crash();
          kills.push(kill);
          setTimeout(() => {
            if (chaos) void victim.start().catch(() => {});
          }, 1500);
        }
        await new Promise((r) => setTimeout(r, 5000));
      }
    })();

    // Who leads, sampled: when a killed leader's role moved on.
    const leaderLog: Array<{ at: number; holder: string | undefined }> = [];
    const leaderWatch = setInterval(() => {
      void store.db
        .selectFrom('leader')
        .select(['holder', 'expires_at'])
        .executeTakeFirst()
        .then(
          (row) => {
            const holder = row && Date.parse(row.expires_at) > Date.now() ? row.holder : undefined;
            if (leaderLog[leaderLog.length - 1]?.holder !== holder) leaderLog.push({ at: Date.now(), holder });
          },
          () => {},
        );
    }, 100);

    // Twenty tasks: ten creates spread over the replicas; as each create ends, a resize or a delete of it.
    const names = Array.from({ length: CLUSTERS }, (_, i) => `ha-${i}`);
    // A replica killed after it accepted a request but before it answered: the retry through another one is
    // refused (the name is taken, or the cluster busy with that very task), and the task is the store's.
    const submit = async (name: string, type: string, method: string, path: string, body?: unknown) => {
      const res = await call(method, path, body);
      expect([202, 409], `${method} ${path}: ${JSON.stringify(res.body)}`).toContain(res.status);
      return (
        await store.db
          .selectFrom('tasks')
          .select('id')
          .where('cluster_name', '=', name)
          .where('type', '=', type)
          .orderBy('id', 'desc')
          .executeTakeFirstOrThrow()
      ).id;
    };
    const history = async (id: number) => (await store.tasks.logs(id)).map((l) => `${l.at} ${l.message}`).join('\n');
    const waitTask = async (id: number) => {
      const deadline = Date.now() + 240_000;
      for (;;) {
        const row = await store.tasks.get(id);
        if (row && !['queued', 'processing', 'cancelling'].includes(row.state)) return row;
        if (Date.now() > deadline) {
          const logs = (await store.tasks.logs(id)).slice(-12).map((l) => `${l.at} ${l.message}`);
          const tails = replicas.map((r) => `--- ${r.name}\n${r.log.split('\n').slice(-15).join('\n')}`);
          throw new Error(
            `task ${id} still ${row?.state} after 240 s (owner ${row?.owner}, waiting for ${row?.waiting_for}):\n${logs.join('\n')}\n${tails.join('\n')}`,
          );
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    };
    await Promise.all(
      names.map(async (name, i) => {
        const createId = await submit(name, 'CREATE', 'POST', '/v1/clusters', {
          name,
          plan_name: 'small',
          parameters: { kubernetes_master_host: `${name}.example.test` },
        });
        const created = await waitTask(createId);
        expect(created.state, `${name}: ${created.error}\n${await history(createId)}`).toBe('done');
        const nextId =
          i % 2 === 0
            ? await submit(name, 'UPDATE', 'PATCH', `/v1/clusters/${name}`, { kubernetes_worker_instances: 2 })
            : await submit(name, 'DELETE', 'DELETE', `/v1/clusters/${name}`);
        const ended = await waitTask(nextId);
        expect(ended.state, `${name}: ${ended.error}\n${await history(nextId)}`).toBe('done');
      }),
    );
    chaos = false;
    await chaosLoop;
    clearInterval(leaderWatch);

    // Every task finished exactly once: twenty tasks, all done, and no step started again after it was done
    // or while its first run was not interrupted by a takeover.
    const tasks = await store.db.selectFrom('tasks').selectAll().orderBy('id').execute();
    expect(tasks.length).toBe(2 * CLUSTERS);
    expect(tasks.filter((t) => t.state !== 'done').map((t) => `${t.id} ${t.state}`)).toEqual([]);
    const logs = (await store.db
      .selectFrom('task_logs')
      .select(['task_id', 'at', 'message'])
      .orderBy('id')
      .execute()) as LogRow[];
    const repeated: string[] = [];
    for (const task of tasks) {
      const started: string[] = [];
      let resumedSince = true;
      for (const l of logs.filter((x) => x.task_id === task.id)) {
        if (/^(taken over by|resumed by|resumed after)/.test(l.message)) resumedSince = true;
        const m = /^step (\S+) started$/.exec(l.message);
        if (!m) continue;
        const last = started[started.length - 1];
        // Only the step a dead replica was in may start again, and only after a takeover.
        if (started.includes(m[1]!) && !(m[1] === last && resumedSince))
          repeated.push(`task ${task.id}: step ${m[1]} started again`);
        if (m[1] !== last) started.push(m[1]!);
        resumedSince = false;
      }
    }
    expect(repeated).toEqual([]);

    // The cloud holds exactly what the store says: the live instances' VMs and their disks, nothing else.
    const inventory = await cloud.inventory();
    const instances = await store.db
      .selectFrom('instances')
      .innerJoin('clusters', 'clusters.uuid', 'instances.cluster_uuid')
      .select(['instances.vm_cid', 'instances.ip', 'clusters.name'])
      .where('clusters.live', '=', 1)
      .execute();
    expect(instances.length).toBe((CLUSTERS / 2) * 3);
    expect(inventory.instances.map((i: { id: string }) => i.id).sort()).toEqual(instances.map((i) => i.vm_cid).sort());
    const disks = await store.db
      .selectFrom('disks')
      .select('disk_cid')
      .where('state', '!=', 'deleted')
      .where('disk_cid', 'is not', null)
      .execute();
    expect(inventory.volumes.map((v: { id: string }) => v.id).sort()).toEqual(disks.map((d) => d.disk_cid).sort());
    // No address given twice: not among the store's instances, not among the cloud's VMs.
    const ips = instances.map((i) => i.ip);
    expect(new Set(ips).size).toBe(ips.length);
    const cloudIps = inventory.instances.map((i: { ip: string }) => i.ip);
    expect(new Set(cloudIps).size).toBe(cloudIps.length);

    // Each kill's work was taken over within 15 s: its tasks by another replica, the leader role if it had it.
    expect(kills.length).toBeGreaterThan(2);
    for (const kill of kills) {
      const takeovers = logs.filter(
        (l) =>
          kill.owned.includes(l.task_id) && l.message.includes(`the lease of `) && l.message.includes(`/${kill.pid}/`),
      );
      const byTask = kill.owned.map((id) => takeovers.find((l) => l.task_id === id));
      const ended = kill.owned.filter((id, i) => !byTask[i]);
      // A task that ended before the kill landed has nothing to take over.
      for (const id of ended)
        expect(tasks.find((t) => t.id === id)!.owner, `task ${id} of killed ${kill.replica}`).not.toContain(
          `/${kill.pid}/`,
        );
      const times = byTask.filter(Boolean).map((l) => Date.parse(l!.at) - kill.at);
      kill.takenOverMs = times.length ? Math.max(...times) : undefined;
    }
    for (const kill of kills.filter((k) => k.leader)) {
      const next = leaderLog.find((l) => l.at > kill.at && l.holder && !l.holder.includes(`/${kill.pid}/`));
      kill.leaderTakenOverMs = next ? next.at - kill.at : Infinity;
    }
    expect((await store.db.selectFrom('leader').select('holder').execute()).length).toBe(1);
    const report = kills.map(
      (k) =>
        `${k.replica} (pid ${k.pid}): ${k.owned.length} task(s)${k.takenOverMs !== undefined ? `, taken over in ${(k.takenOverMs / 1000).toFixed(1)} s` : ''}${k.leader ? `, was leader: new leader in ${((k.leaderTakenOverMs ?? Infinity) / 1000).toFixed(1)} s` : ''}`,
    );
    process.stdout.write(`failover: ${kills.length} kills\n  ${report.join('\n  ')}\n`);
    for (const kill of kills)
      if (kill.takenOverMs !== undefined) expect(kill.takenOverMs, `kill of ${kill.replica}`).toBeLessThan(15_000);
    for (const kill of kills.filter((k) => k.leader))
      expect(kill.leaderTakenOverMs, `leader kill of ${kill.replica}`).toBeLessThan(15_000);
    expect(
      kills.some((k) => k.takenOverMs !== undefined),
      'no kill landed while its replica owned a task',
    ).toBe(true);
  }, 420_000);
});
