import { afterEach, beforeAll, afterAll, describe, expect, it } from 'vitest';
import { AgentChannelRecorder, SimulatedProcessRunner } from '@slipway/testkit/simulation';
import type { Agent, JobCatalog } from '../src/index.js';
import { defaultJobCatalog, FileCredentialStore, MemoryCredentialStore } from '../src/index.js';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allRunning, processOf, processStates, testAgent } from './support.js';

const MASTER = [
  'etcd',
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  'containerd',
  'kubelet',
  'kube-proxy',
];
const WORKER = ['containerd', 'kubelet', 'kube-proxy'];

describe('Agent', () => {
  let recorder: AgentChannelRecorder;
  const agents: Agent[] = [];
  let counter = 0;
  const nextId = (): string => `agent-${++counter}`;

  beforeAll(async () => {
    recorder = await AgentChannelRecorder.start();
  });
  afterEach(async () => {
    await Promise.all(agents.splice(0).map((agent) => agent.stop()));
  });
  afterAll(async () => {
    await recorder.stop();
  });

  function track(agent: Agent): Agent {
    agents.push(agent);
    return agent;
  }

  it('syncs at once on boot, starts its jobs in order and reports them running', async () => {
    const agentId = nextId();
    // A long heartbeat interval: everything below must arrive through immediate syncs, not the periodic one.
    const settings = await recorder.settingsFor(agentId, { group: 'master', heartbeatIntervalMs: 10_000 });
    const runner = new SimulatedProcessRunner();
    const agent = track(testAgent(settings, runner));
    await agent.start();

    const first = await recorder.waitForSync(agentId, 2_000);
    expect(first.agentId).toBe(agentId);
    expect(first.instanceId).toBe(settings.instanceId);
    expect(first.appliedGeneration).toBe(0);
    expect(Object.values(processStates(first))).toEqual(MASTER.map(() => 'starting'));

    const running = await recorder.waitForHeartbeat(
      agentId,
      (hb) => allRunning(hb) && hb.appliedGeneration === 1,
      2_000,
    );
    expect(Object.keys(processStates(running))).toEqual(MASTER);
    expect(runner.events.filter((e) => e.type === 'start').map((e) => e.name)).toEqual(MASTER);
    expect(recorder.syncs.find((s) => s.agentId === agentId)?.waitMs).toBe(0);
  });

  it('restarts a killed process, counts the restart and reports it at once', async () => {
    const agentId = nextId();
    const settings = await recorder.settingsFor(agentId, { heartbeatIntervalMs: 10_000 });
    const runner = new SimulatedProcessRunner();
    const agent = track(testAgent(settings, runner));
    await agent.start();
    const before = await recorder.waitForHeartbeat(agentId, allRunning, 2_000);
    const oldPid = processOf(before, 'kubelet')!.pid;

    expect(runner.kill('kubelet', 137)).toBe(true);
    const after = await recorder.waitForHeartbeat(
      agentId,
      (hb) => processOf(hb, 'kubelet')?.restarts === 1 && processOf(hb, 'kubelet')?.state === 'running',
      2_000,
    );
    expect(processOf(after, 'kubelet')!.pid).not.toBe(oldPid);
    expect(processOf(after, 'containerd')!.restarts).toBe(0);
    expect(runner.startCount('kubelet')).toBe(2);
  });

  it('gives up on a process past maxRestarts and reports it failing', async () => {
    const agentId = nextId();
    const settings = await recorder.settingsFor(agentId, { heartbeatIntervalMs: 10_000 });
    const runner = new SimulatedProcessRunner();
    const agent = track(testAgent(settings, runner, { supervision: { maxRestarts: 2 } }));
    await agent.start();
    await recorder.waitForHeartbeat(agentId, allRunning, 2_000);

    for (let restarts = 1; restarts <= 2; restarts++) {
      runner.kill('kube-proxy');
      await recorder.waitForHeartbeat(
        agentId,
        (hb) => processOf(hb, 'kube-proxy')?.restarts === restarts && processOf(hb, 'kube-proxy')?.state === 'running',
        2_000,
      );
    }
    runner.kill('kube-proxy');
    const failing = await recorder.waitForHeartbeat(
      agentId,
      (hb) => processOf(hb, 'kube-proxy')?.state === 'failing',
      2_000,
    );
    expect(processOf(failing, 'kube-proxy')!.reason).toMatch(/exited with code 1.*not restarting/);

    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(runner.startCount('kube-proxy'), 'no restart after failing').toBe(3);
    expect(processStates(recorder.lastHeartbeat(agentId)!)['kube-proxy']).toBe('failing');
  });

  it('stops processes in reverse start order when told to stop', async () => {
    const agentId = nextId();
    const settings = await recorder.settingsFor(agentId, { heartbeatIntervalMs: 10_000 });
    const runner = new SimulatedProcessRunner();
    const agent = track(testAgent(settings, runner));
    await agent.start();
    await recorder.waitForHeartbeat(agentId, allRunning, 2_000);

    const desired = recorder.setDesired(agentId, { state: 'stopped' });
    const stopped = await recorder.waitForHeartbeat(
      agentId,
      (hb) => hb.appliedGeneration === desired.generation,
      2_000,
    );
    expect(Object.values(processStates(stopped))).toEqual(WORKER.map(() => 'stopped'));
    expect(runner.events.filter((e) => e.type === 'stop').map((e) => e.name)).toEqual([...WORKER].reverse());
    expect(runner.running()).toEqual([]);
  });

  it("runs each job's drain hook, keeping processes, before reporting drained", async () => {
    const agentId = nextId();
    const settings = await recorder.settingsFor(agentId, { heartbeatIntervalMs: 10_000 });
    const drained: string[] = [];
    const catalog: JobCatalog = {
      processes: (job, context) => defaultJobCatalog.processes(job, context),
      async drain(job) {
        await new Promise((resolve) => setTimeout(resolve, 30));
        drained.push(job.name);
      },
    };
    const runner = new SimulatedProcessRunner();
    const agent = track(testAgent(settings, runner, { jobCatalog: catalog }));
    await agent.start();
    const running = await recorder.waitForHeartbeat(agentId, allRunning, 2_000);
    expect(running.drained).toBe(false);

    recorder.setDesired(agentId, { state: 'drained' });
    const heartbeat = await recorder.waitForHeartbeat(agentId, (hb) => hb.drained === true, 2_000);
    expect(drained).toEqual(WORKER);
    expect(allRunning(heartbeat)).toBe(true);
  });

  // Before issue 12 an attempt that outlived the drain timeout was reported as drained, so a stuck drain
  // looked finished; the control plane now owns the bound (the plan's drain_timeout_seconds) and sees why.
  it('reports a drain hook that outlives its attempt timeout as failed, never as drained', async () => {
    const agentId = nextId();
    const settings = await recorder.settingsFor(agentId, { heartbeatIntervalMs: 10_000 });
    const catalog: JobCatalog = {
      processes: (job, context) => defaultJobCatalog.processes(job, context),
      drain: () => new Promise(() => undefined),
    };
    const agent = track(
      testAgent(settings, new SimulatedProcessRunner(), {
        jobCatalog: catalog,
        drainTimeoutMs: 50,
        drainBackoff: { baseMs: 20, maxMs: 40 },
      }),
    );
    await agent.start();
    await recorder.waitForHeartbeat(agentId, allRunning, 2_000);
    recorder.setDesired(agentId, { state: 'drained' });
    const failed = await recorder.waitForHeartbeat(
      agentId,
      (hb) => hb.drain?.state === 'failed' && hb.drain.attempts >= 2,
      3_000,
    );
    expect(failed.drained).toBe(false);
    expect(failed.drain!.message).toContain('drain of containerd did not finish within 50 ms');
  });

  it("reports each failed drain attempt with the hook's message, retries with backoff, and reports drained once one succeeds", async () => {
    const agentId = nextId();
    const settings = await recorder.settingsFor(agentId, { heartbeatIntervalMs: 10_000 });
    const attempts: number[] = [];
    let blocked = true;
    const catalog: JobCatalog = {
      processes: (job, context) => defaultJobCatalog.processes(job, context),
      async drain(job) {
        if (job.name !== 'kubelet') return;
        attempts.push(Date.now());
        if (blocked)
          throw new Error(
            'error when evicting pods/"web-0" -n "shop" (will retry after 5s): Cannot evict pod as it would violate the pod\'s disruption budget.',
          );
      },
    };
    const agent = track(
      testAgent(settings, new SimulatedProcessRunner(), {
        jobCatalog: catalog,
        drainBackoff: { baseMs: 40, maxMs: 160 },
      }),
    );
    await agent.start();
    await recorder.waitForHeartbeat(agentId, allRunning, 2_000);
    recorder.setDesired(agentId, { state: 'drained' });
    const failed = await recorder.waitForHeartbeat(
      agentId,
      (hb) => hb.drain?.state === 'failed' && hb.drain.attempts >= 3,
      3_000,
    );
    expect(failed.drained).toBe(false);
    expect(failed.drain!.message).toContain("Cannot evict pod as it would violate the pod's disruption budget");
    const gaps = attempts.slice(1).map((t, i) => t - attempts[i]!);
    expect(gaps[1]!, 'the retries slow down').toBeGreaterThanOrEqual(gaps[0]! + 20);

    blocked = false;
    const drained = await recorder.waitForHeartbeat(agentId, (hb) => hb.drained === true, 3_000);
    expect(drained.drain).toMatchObject({ state: 'drained' });
    expect(drained.drain!.attempts).toBeGreaterThanOrEqual(4);
  });

  it('backs off while the control plane does not know it (404) and recovers once it does', async () => {
    const agentId = nextId();
    const settings = await recorder.settingsFor(agentId, { heartbeatIntervalMs: 10_000 });
    recorder.forget(agentId);
    const agent = track(testAgent(settings, new SimulatedProcessRunner(), { syncBackoff: { baseMs: 20, maxMs: 80 } }));
    await agent.start();

    const notFound = () => recorder.syncs.filter((s) => s.agentId === agentId && s.status === 404);
    await waitUntil(() => notFound().length >= 4, 2_000);
    const times = notFound().map((s) => s.at);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    expect(gaps[2]!, 'the retries slow down').toBeGreaterThanOrEqual(gaps[0]! + 10);

    await recorder.settingsFor(agentId, { heartbeatIntervalMs: 10_000 });
    await recorder.waitForHeartbeat(agentId, allRunning, 2_000);
  });

  it('keeps retrying when its client certificate is refused (401), and syncs nothing more', async () => {
    const agentId = nextId();
    const settings = await recorder.settingsFor(agentId, { heartbeatIntervalMs: 50 });
    const agent = track(testAgent(settings, new SimulatedProcessRunner()));
    await agent.start();
    await recorder.waitForHeartbeat(agentId, allRunning, 2_000);
    // The control plane replaced this VM: its certificate is refused from now on.
    recorder.revoke(agentId);
    const heartbeats = recorder.heartbeats(agentId).length;
    const refused = () =>
      recorder.syncs.filter((s) => s.route === 'sync' && s.status === 401 && s.agentId === undefined).length;
    const refusedBefore = refused();
    await waitUntil(() => refused() >= refusedBefore + 3, 2_000);
    expect(recorder.heartbeats(agentId).length).toBe(heartbeats);
  });

  it('keeps retrying its bootstrap while its token is refused, and never syncs', async () => {
    const other = await AgentChannelRecorder.start();
    try {
      const agentId = nextId();
      // A token another control plane issued for this agent id, presented to this one.
      const foreign = await other.settingsFor(agentId);
      const settings = await recorder.settingsFor(agentId, { bootstrap: foreign.bootstrap });
      const agent = track(testAgent(settings, new SimulatedProcessRunner()));
      await agent.start();
      const refused = () =>
        recorder.syncs.filter((s) => s.route === 'bootstrap' && s.status === 401 && s.agentId === agentId).length;
      await waitUntil(() => refused() >= 3, 2_000);
      expect(recorder.heartbeats(agentId)).toEqual([]);
      expect(agent.credentials).toBeUndefined();
    } finally {
      await other.stop();
    }
  });

  it('makes its key on the VM: bootstraps once, keeps key and certificate 0600, and a restarted agent reuses them', async () => {
    const agentId = nextId();
    const settings = await recorder.settingsFor(agentId, { heartbeatIntervalMs: 10_000 });
    const dir = mkdtempSync(join(tmpdir(), 'agent-identity-'));
    try {
      const store = new FileCredentialStore(join(dir, 'identity'));
      const first = testAgent(settings, new SimulatedProcessRunner(), { credentials: store });
      await first.start();
      await recorder.waitForHeartbeat(agentId, allRunning, 2_000);
      await first.stop();
      expect(statSync(store.path).mode & 0o777).toBe(0o600);
      const kept = readFileSync(store.path, 'utf8');
      expect(kept).toContain('BEGIN PRIVATE KEY');
      expect(JSON.stringify(settings)).not.toContain('PRIVATE KEY');

      const seen = recorder.heartbeats(agentId).length;
      const second = track(testAgent(settings, new SimulatedProcessRunner(), { credentials: store }));
      await second.start();
      await recorder.waitForHeartbeat(agentId, () => recorder.heartbeats(agentId).length > seen, 2_000);
      expect(
        recorder.syncs.filter((s) => s.route === 'bootstrap' && s.agentId === agentId).map((s) => s.status),
        'one bootstrap, the token spent once',
      ).toEqual([200]);
      expect(second.credentials?.serial).toBe(recorder.serialsOf(agentId)[0]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('stop() returns within 200 ms while a long poll is held, stopping its processes', async () => {
    const agentId = nextId();
    const settings = await recorder.settingsFor(agentId, { heartbeatIntervalMs: 30_000 });
    const runner = new SimulatedProcessRunner();
    const agent = testAgent(settings, runner);
    await agent.start();
    await recorder.waitForHeartbeat(agentId, allRunning, 2_000);
    await waitUntil(() => recorder.heldPolls(agentId) > 0, 2_000);

    const started = Date.now();
    await agent.stop();
    expect(Date.now() - started).toBeLessThan(1_000); // its held poll is cut, not waited out (30 s heartbeats)
    expect(runner.running()).toEqual([]);
  });

  it('a new agent after detach() adopts the running processes without restarting them', async () => {
    const agentId = nextId();
    const settings = await recorder.settingsFor(agentId, { heartbeatIntervalMs: 10_000 });
    const runner = new SimulatedProcessRunner();
    // The VM's disk: the second agent finds the key and certificate the first one made.
    const credentials = new MemoryCredentialStore();
    const first = testAgent(settings, runner, { credentials });
    await first.start();
    const before = await recorder.waitForHeartbeat(
      agentId,
      (hb) => allRunning(hb) && hb.appliedGeneration === 1,
      2_000,
    );
    await first.detach();
    expect(runner.running().map((p) => p.spec.name)).toEqual(WORKER);

    const seen = recorder.heartbeats(agentId).length;
    const second = track(testAgent(settings, runner, { credentials }));
    await second.start();
    const after = await recorder.waitForHeartbeat(
      agentId,
      (hb) => recorder.heartbeats(agentId).length > seen && hb.appliedGeneration === 1 && allRunning(hb),
      2_000,
    );
    for (const name of WORKER) {
      expect(runner.startCount(name), `${name} started once`).toBe(1);
      expect(processOf(after, name)!.pid).toBe(processOf(before, name)!.pid);
      expect(processOf(after, name)!.restarts).toBe(0);
    }
    // The adopted processes are supervised again.
    runner.kill('kubelet');
    await recorder.waitForHeartbeat(
      agentId,
      (hb) => processOf(hb, 'kubelet')?.restarts === 1 && processOf(hb, 'kubelet')?.state === 'running',
      2_000,
    );
  });
});

async function waitUntil(check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
