import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { SlipwayError } from '@slipway/contracts';
import { storeMatrix } from '@slipway/testkit/store-matrix';
import { SystemClock, TaskRunner, createStore, silentLogger, type Store, type TaskDefinition } from '../src/index.js';

const clock = new SystemClock();

/** A task whose steps record each run and can be held open or made to fail. */
function recordingTask(
  runs: string[],
  options: { hold?: string; fail?: string; gate?: Promise<void> } = {},
): TaskDefinition<{ n: number }> {
  return {
    type: 'UPDATE',
    steps: () => ['a', 'b', 'c'],
    async run(step, ctx) {
      runs.push(step);
      if (step === options.fail) throw new SlipwayError('CloudError', `step ${step} hit a permanent cloud error`);
      if (step === options.hold) {
        await new Promise<void>((resolve, reject) => {
          ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true });
          void options.gate?.then(resolve);
        });
      }
      await ctx.detail(`${step} ok`);
    },
  };
}

for (const target of await storeMatrix())
  describe.skipIf(target.skip)(`on ${target.title}`, () => {
    let url: string;
    let store: Store;

    beforeEach(async () => {
      url = await target.fresh();
      store = await createStore(url);
      await store.clusters.insert({
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
        created_at: clock.now().toString(),
        updated_at: clock.now().toString(),
      });
    });
    afterEach(async () => {
      await store.db.destroy();
    });
    afterAll(() => target.dispose());

    const submit = (runner: TaskRunner) =>
      runner.submit({
        type: 'UPDATE',
        cluster: { uuid: 'c-1', name: 'demo' },
        user: 'admin',
        description: 'resize',
        params: { n: 1 },
      });

    describe('task runner', () => {
      it('runs the steps in order and records each as done', async () => {
        const runs: string[] = [];
        const runner = new TaskRunner(store, clock, silentLogger);
        runner.register(recordingTask(runs));
        const task = await submit(runner);
        const done = await runner.settled(task.id);
        expect(done.state).toBe('done');
        expect(runs).toEqual(['a', 'b', 'c']);
        expect((await store.tasks.steps(task.id)).map((s) => `${s.name}:${s.state}:${s.detail}`)).toEqual([
          'a:done:a ok',
          'b:done:b ok',
          'c:done:c ok',
        ]);
      });

      it('refuses a second task on the same cluster while one runs, naming it', async () => {
        let open!: () => void;
        const gate = new Promise<void>((r) => {
          open = r;
        });
        const runner = new TaskRunner(store, clock, silentLogger);
        runner.register(recordingTask([], { hold: 'b', gate }));
        const first = await submit(runner);
        const refused = await submit(runner).then(
          () => undefined,
          (e: SlipwayError) => e,
        );
        expect(refused?.code).toBe('Conflict');
        expect(refused?.message).toContain(`task ${first.id}`);
        open();
        expect((await runner.settled(first.id)).state).toBe('done');
        // Once it has ended, the cluster takes new work.
        expect((await runner.settled((await submit(runner)).id)).state).toBe('done');
      });

      it('lets only one of two control planes sharing the database start a task on a cluster', async () => {
        // Two runners: neither sees the other's in-process lock, so the database decides. On PostgreSQL they have
        // a connection pool each, as two replicas would; SQLite allows one control plane per home (one connection).
        const other = target.dialect === 'postgres' ? await createStore(url) : store;
        try {
          let open!: () => void;
          const gate = new Promise<void>((r) => {
            open = r;
          });
          const runners = [new TaskRunner(store, clock, silentLogger), new TaskRunner(other, clock, silentLogger)];
          for (const r of runners) r.register(recordingTask([], { hold: 'a', gate }));
          const outcomes = await Promise.allSettled(runners.map((r) => submit(r)));
          const won = outcomes
            .filter((o) => o.status === 'fulfilled')
            .map((o) => (o as PromiseFulfilledResult<{ id: number }>).value);
          const lost = outcomes
            .filter((o) => o.status === 'rejected')
            .map((o) => (o as PromiseRejectedResult).reason as SlipwayError);
          expect(won).toHaveLength(1);
          expect(lost.map((e) => e.code)).toEqual(['Conflict']);
          expect(lost[0].message).toContain(`task ${won[0].id}`);
          open();
          await Promise.all(runners.map((r) => r.settled(won[0].id)));
          expect((await store.tasks.list({ limit: 10 })).map((t) => t.state)).toEqual(['done']);
        } finally {
          if (other !== store) await other.db.destroy();
        }
      });

      it('pauses on shutdown and resumes at the step that was running, not before it', async () => {
        const runs: string[] = [];
        const first = new TaskRunner(store, clock, silentLogger);
        first.register(recordingTask(runs, { hold: 'b', gate: new Promise(() => {}) }));
        const task = await submit(first);
        while (!runs.includes('b')) await new Promise((r) => setTimeout(r, 5));
        await first.shutdown();
        expect((await store.tasks.get(task.id))!.state).toBe('processing');

        const second = new TaskRunner(store, clock, silentLogger);
        second.register(recordingTask(runs));
        expect(await second.resumeAll()).toBe(1);
        expect((await second.settled(task.id)).state).toBe('done');
        expect(runs).toEqual(['a', 'b', 'b', 'c']);
        expect((await store.tasks.logs(task.id)).some((l) => l.message.includes('resumed after a restart'))).toBe(true);
      });

      it('ends in error with the step, the code and the message kept', async () => {
        const runner = new TaskRunner(store, clock, silentLogger);
        runner.register(recordingTask([], { fail: 'b' }));
        const task = await runner.settled((await submit(runner)).id);
        expect(task.state).toBe('error');
        expect(JSON.parse(task.error!)).toMatchObject({
          code: 'CloudError',
          message: 'step b hit a permanent cloud error',
        });
        expect((await store.tasks.steps(task.id)).map((s) => s.state)).toEqual(['done', 'failed', 'pending']);
      });

      it('cancels a running task at its next await; a finished one cannot be cancelled', async () => {
        const runner = new TaskRunner(store, clock, silentLogger);
        runner.register(recordingTask([], { hold: 'b', gate: new Promise(() => {}) }));
        const task = await submit(runner);
        while ((await store.tasks.steps(task.id))[1].state !== 'running') await new Promise((r) => setTimeout(r, 5));
        await runner.cancel(task.id);
        expect((await runner.settled(task.id)).state).toBe('cancelled');
        await expect(runner.cancel(task.id)).rejects.toMatchObject({ code: 'Conflict' });
      });
    });

    describe('store', () => {
      it('migrates a new database to the latest schema, and reopening it applies nothing twice', async () => {
        await store.db.destroy();
        const file = await target.fresh({ schema: true });
        const a = await createStore(file);
        const applied = await a.db
          .selectFrom('kysely_migration' as never)
          .selectAll()
          .execute();
        await a.db.destroy();
        const b = await createStore(file);
        expect(
          await b.db
            .selectFrom('kysely_migration' as never)
            .selectAll()
            .execute(),
        ).toEqual(applied);
        if (target.dialect === 'sqlite') {
          const mode = await sql`pragma journal_mode`.execute(b.db);
          expect(mode.rows).toEqual([{ journal_mode: 'wal' }]);
        }
        store = b;
      });
    });
  });
