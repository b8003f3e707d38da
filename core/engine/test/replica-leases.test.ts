import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SlipwayError } from '@slipway/contracts';
import { storeMatrix } from '@slipway/testkit/store-matrix';
import {
  LeaderLease,
  PostgresChangeFeed,
  SystemClock,
  TaskLeases,
  TaskRunner,
  createStore,
  newReplicaIdentity,
  replicaSettingsOf,
  silentLogger,
  type Store,
  type TaskDefinition,
} from '../src/index.js';

// Two replicas in one process, each with its own connection to one database: what they share is only the
// store, as with two `slipway up` on one PostgreSQL. Short leases so a takeover takes a second.
const settings = replicaSettingsOf(
  { replicas: { lease_seconds: 1, renew_interval_seconds: 0.25, claim_interval_seconds: 0.2 } },
  'shared',
);
const clock = new SystemClock();

for (const target of await storeMatrix())
  describe.skipIf(target.skip)(`on ${target.title}`, () => {
    let stores: Store[];

    beforeEach(async () => {
      const url = await target.fresh();
      stores = [await createStore(url), await createStore(url)];
      const now = new Date().toISOString();
      await stores[0]!.clusters.insert({
        uuid: 'c-1',
        name: 'demo',
        owner: 'admin',
        plan_name: 'small',
        iaas: 'sandbox',
        external_hostname: 'demo.example.test',
        k8s_version: '1.31.4',
        stemcell: 'ubuntu-jammy/1.600',
        master_instances: 1,
        worker_instances: 1,
        api_address: null,
        status: 'active',
        live: 1,
        created_at: now,
        updated_at: now,
      });
    });
    afterEach(async () => {
      for (const s of stores) await s.db.destroy().catch(() => {});
    });
    afterAll(() => target.dispose());

    /** Records which replica ran which step; step b holds until `release` or an abort. */
    function recordingTask(runs: string[], who: string, hold?: { step: string; until: Promise<void> }): TaskDefinition {
      return {
        type: 'UPDATE',
        steps: () => ['a', 'b', 'c'],
        async run(step, ctx) {
          runs.push(`${who}:${step}`);
          if (hold?.step === step) {
            await new Promise<void>((resolve, reject) => {
              ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true });
              void hold.until.then(resolve);
            });
          }
        },
      };
    }

    function replica(store: Store, runs: string[], who: string, hold?: { step: string; until: Promise<void> }) {
      const identity = newReplicaIdentity();
      const runner = new TaskRunner(store, clock, silentLogger, new TaskLeases(store.db, settings, identity, clock));
      runner.register(recordingTask(runs, who, hold));
      return { runner, identity };
    }

    const submit = (runner: TaskRunner) =>
      runner.submit({
        type: 'UPDATE',
        cluster: { uuid: 'c-1', name: 'demo' },
        user: 'admin',
        description: 'resize',
        params: {},
      });
    const until = async (check: () => Promise<boolean> | boolean, ms = 10_000) => {
      const end = Date.now() + ms;
      while (!(await check())) {
        if (Date.now() > end) throw new Error('timed out');
        await new Promise((r) => setTimeout(r, 20));
      }
    };

    describe('task leases across replicas', () => {
      it('a replica that loses the store stops its task, and another takes it over at the running step once the lease lapses', async () => {
        const runs: string[] = [];
        const a = replica(stores[0]!, runs, 'A', { step: 'b', until: new Promise(() => {}) });
        const b = replica(stores[1]!, runs, 'B');
        a.runner.startLeases();
        b.runner.startLeases();
        const task = await submit(a.runner);
        await until(() => runs.includes('A:b'));
        // B leaves a live lease alone.
        await new Promise((r) => setTimeout(r, 1500));
        expect((await stores[1]!.tasks.get(task.id))!.owner).toBe(a.identity.id);

        // A can no longer reach the store: it must stop before its lease runs out, and B must resume the task.
        const cut = Date.now();
        await stores[0]!.db.destroy();
        await until(async () => (await stores[1]!.tasks.get(task.id))!.state === 'done');
        const taken = (await stores[1]!.tasks.logs(task.id)).find((l) => l.message.startsWith('taken over by'))!;
        expect(taken.message).toBe(`taken over by ${b.identity.id}: the lease of ${a.identity.id} lapsed`);
        expect(Date.parse(taken.at) - cut).toBeLessThan(settings.leaseMs + settings.claimMs + 1000);
        // a is not run again; b is run again by B (the step that was running), c only by B.
        expect(runs).toEqual(['A:a', 'A:b', 'B:b', 'B:c']);
        const done = (await stores[1]!.tasks.get(task.id))!;
        expect(done.owner).toBe(b.identity.id);
        await b.runner.shutdown();
        await a.runner.shutdown();
      });

      it('a cancel asked through another replica stops the task where it runs', async () => {
        const runs: string[] = [];
        const a = replica(stores[0]!, runs, 'A', { step: 'b', until: new Promise(() => {}) });
        const b = replica(stores[1]!, runs, 'B');
        a.runner.startLeases();
        const task = await submit(a.runner);
        await until(() => runs.includes('A:b'));
        await b.runner.cancel(task.id, 'alice');
        expect((await a.runner.settled(task.id)).state).toBe('cancelled');
        expect(runs).toEqual(['A:a', 'A:b']);
        await a.runner.shutdown();
      });

      it('a clean stop lets go of the lease: another replica resumes the task at once', async () => {
        const runs: string[] = [];
        const a = replica(stores[0]!, runs, 'A', { step: 'b', until: new Promise(() => {}) });
        const b = replica(stores[1]!, runs, 'B');
        const task = await submit(a.runner);
        await until(() => runs.includes('A:b'));
        await a.runner.shutdown();
        // Well within the lease a crash would have left.
        expect(await b.runner.resumeAll()).toBe(1);
        expect((await b.runner.settled(task.id)).state).toBe('done');
        expect((await stores[1]!.tasks.logs(task.id)).map((l) => l.message)).toContain(
          `resumed by ${b.identity.id} after ${a.identity.id} stopped`,
        );
        await b.runner.shutdown();
      });
    });

    describe('leader lease', () => {
      function candidate(store: Store, events: string[], who: string) {
        return new LeaderLease(store.db, settings, newReplicaIdentity(), clock, silentLogger, {
          async start() {
            events.push(`${who} leads`);
          },
          async stop() {
            events.push(`${who} steps down`);
          },
        });
      }

      it('one replica leads; when it dies another takes over within a lease, and the old one steps down', async () => {
        const events: string[] = [];
        const a = candidate(stores[0]!, events, 'A');
        const b = candidate(stores[1]!, events, 'B');
        await a.start();
        await b.start();
        expect([a.isLeader, b.isLeader]).toEqual([true, false]);
        await new Promise((r) => setTimeout(r, 1200));
        expect(events).toEqual(['A leads']);

        const cut = Date.now();
        await stores[0]!.db.destroy();
        await until(() => b.isLeader);
        expect(Date.now() - cut).toBeLessThan(settings.leaseMs + settings.claimMs + 1000);
        await until(() => !a.isLeader);
        expect(events).toEqual(expect.arrayContaining(['A leads', 'A steps down', 'B leads']));
        // A, cut off, stepped down before its lease ran out, so before B could take over.
        expect(events.indexOf('A steps down')).toBeLessThan(events.indexOf('B leads'));
        await b.stop();
        await a.stop();
      });

      it('a leader that stops lets go: the next one leads at its next try', async () => {
        const events: string[] = [];
        const a = candidate(stores[0]!, events, 'A');
        const b = candidate(stores[1]!, events, 'B');
        await a.start();
        await b.start();
        await a.stop();
        await until(() => b.isLeader, settings.claimMs + 1000);
        expect(events).toEqual(['A leads', 'A steps down', 'B leads']);
        await b.stop();
      });
    });

    describe.skipIf(target.dialect !== 'postgres')('change feed across replicas', () => {
      it('a change published on one replica wakes a waiter on another, once, and a replica hears its own only locally', async () => {
        const url = (stores[0]!.location as { url: string }).url;
        const [a, b] = await Promise.all([
          PostgresChangeFeed.open(url, 'replica-a', silentLogger),
          PostgresChangeFeed.open(url, 'replica-b', silentLogger),
        ]);
        try {
          const heardByB: Array<number | undefined> = [];
          const heardByA: Array<number | undefined> = [];
          b.subscribe('instance:w-1', (v) => heardByB.push(v));
          a.subscribe('instance:w-1', (v) => heardByA.push(v));
          a.subscribe('instance:other', () => heardByA.push(-1));
          a.publish('instance:w-1', 7);
          await until(() => heardByB.length > 0, 5000);
          await new Promise((r) => setTimeout(r, 300));
          expect(heardByB).toEqual([7]);
          expect(heardByA).toEqual([7]);
        } finally {
          await Promise.all([a.close(), b.close()]);
        }
      });
    });
  });

describe('replica settings', () => {
  it('refuses a renewal period longer than half the lease, naming the field', () => {
    expect(() =>
      replicaSettingsOf(
        { replicas: { lease_seconds: 4, renew_interval_seconds: 3, claim_interval_seconds: 1 } },
        'shared',
      ),
    ).toThrow(
      expect.objectContaining({
        code: 'InvalidConfig',
        field: 'replicas.renew_interval_seconds',
      }) as unknown as SlipwayError,
    );
  });
});
