import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from './support.js';
// @ts-expect-error plain JavaScript shared with the benchmarks
import { startLocalControlPlane } from './local-control-plane.mjs';

/** What kubectl 1.31 prints when a PodDisruptionBudget keeps `kubectl drain --timeout` from evicting a pod. */
const KUBECTL_ERROR = [
  'node/worker-1 cordoned',
  'evicting pod shop/web-0',
  'error when evicting pods/"web-0" -n "shop" (will retry after 5s): Cannot evict pod as it would violate the pod\'s disruption budget.',
  'There are pending pods in node "worker-1" when an error occurred: error when evicting pods/"web-0" -n "shop": global timeout reached: 5m0s',
  'error: unable to drain node "worker-1" due to error: error when evicting pods/"web-0" -n "shop": global timeout reached: 5m0s, continuing command...',
].join('\n');

const DRAIN_TIMEOUT_S = 5;

const onPath = (binary: string) =>
  (process.env.PATH ?? '').split(delimiter).some((dir) => dir && existsSync(join(dir, binary)));
const haveApiServer = onPath('kube-apiserver');

/**
 * Honest state on real processes. The local driver's VMs run the real agent, which finds no kube-* binaries
 * on this machine and reports those jobs `unavailable` with where it looked: a plan that requires the API
 * (`local-api`) must fail its create with that reason instead of showing "succeeded"; the etcd-only plan
 * (`local`, require_api: false) succeeds and is used for the drain.
 *
 * A drain that fails is reported, retried and ends the task with kubectl's message within the plan's
 * drain_timeout_seconds. kubectl here is a fake: a script that prints kubectl's real error text for a drain
 * blocked by a PodDisruptionBudget and exits 1, because no kube-apiserver can run on these machines for a
 * real kubectl to drain against. It is found first in the agent's --bin-dir, as the real one would be.
 */
describe('honest cluster state and drains that report, on real agents', () => {
  let cp: Awaited<ReturnType<typeof startLocalControlPlane>>;
  let bin: string;

  beforeAll(async () => {
    ensureBuilt(['iaas-drivers/local']);
    bin = mkdtempSync(join(tmpdir(), 'slipway-fake-kubectl-'));
    writeFileSync(
      join(bin, 'kubectl'),
      `#!/bin/sh\necho "$@" >> "${join(bin, 'calls')}"\ncat >&2 <<'EOF'\n${KUBECTL_ERROR}\nEOF\nexit 1\n`,
    );
    chmodSync(join(bin, 'kubectl'), 0o755);
    cp = await startLocalControlPlane({
      masters: 1,
      workers: 1,
      binDirs: [bin],
      heartbeatSeconds: 0.5,
      update: { drain_timeout_seconds: DRAIN_TIMEOUT_S },
      extraPlans: [
        {
          name: 'local-api',
          iaas: 'local',
          master_instances: 1,
          worker_instances: 1,
          max_worker_instances: 2,
          master_vm: { cpu: 1, memory_mb: 512, ephemeral_disk_mb: 1024 },
          worker_vm: { cpu: 1, memory_mb: 512, ephemeral_disk_mb: 1024 },
        },
      ],
    });
  }, 120_000);

  afterAll(async () => {
    await cp?.stop();
    await cp?.killAll();
    rmSync(bin, { recursive: true, force: true });
  }, 60_000);

  it.skipIf(haveApiServer)(
    'a create whose kube-* binaries are missing fails naming each missing binary and where the agent looked; the smoke test checks nothing and says why',
    async () => {
      const failure = await cp.createCluster('nobins', { plan: 'local-api', timeoutMs: 120_000 }).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(failure, 'the create must not succeed').toBeInstanceOf(Error);
      expect(failure!.message).toContain('ended error');
      expect(failure!.message).toMatch(
        /the Kubernetes jobs of cluster nobins cannot run: .*kube-apiserver on master\/0: binary kube-apiserver \(kubernetes 1\.31\.4\) not found in /,
      );
      expect(failure!.message).toContain('or on PATH');
      expect(failure!.message).toContain('require_api: false');

      const view = await cp.services.clusters.get(cp.admin, 'nobins');
      expect(view.last_action_state).toBe('failed');
      expect(view.kubernetes).toEqual({ require_api: true });

      const report = await cp.services.clusters.smokeTest(cp.admin, 'nobins');
      expect(report.passed).toBe(false);
      expect(report.checks.every((c: { state: string }) => c.state === 'not-checked')).toBe(true);
      expect(report.checks[0].detail).toMatch(
        /^no Kubernetes API to ask: Kubernetes jobs cannot run: .*kube-apiserver on master\/0: binary kube-apiserver/,
      );
    },
    150_000,
  );

  it("reports each failed attempt with kubectl's message, drains as system:slipway:drainer, and fails the resize after drain_timeout_seconds", async () => {
    await cp.createCluster('drainy', { workers: 2, timeoutMs: 120_000 });
    const started = Date.now();
    const view = await cp.services.clusters.resize(cp.admin, 'drainy', 1);
    const task = await waitForEnd(cp, view.task_id);
    const elapsed = (Date.now() - started) / 1000;
    expect(task.state).toBe('error');
    expect(task.error.message).toContain(
      `drain did not finish within ${DRAIN_TIMEOUT_S} s (plan local update.drain_timeout_seconds): worker/1: attempt`,
    );
    expect(task.error.message).toContain('global timeout reached: 5m0s, continuing command...');
    expect(task.error.hint).toContain('update.force: true in plan local');
    expect(task.error.hint).not.toContain('--force-drain flag ');
    // Bounded by the plan's timeout, not the agents' 600 s boot timeout.
    expect(elapsed).toBeLessThan(DRAIN_TIMEOUT_S + 20);

    const log = task.log.map((l: { message: string }) => l.message).join('\n');
    expect(log).toMatch(
      /drain of worker\/1 failed \(attempt 1\): drain of kubelet failed: .*Cannot evict pod as it would violate the pod's disruption budget/s,
    );
    expect(log).toMatch(/drain of worker\/1 failed \(attempt 2\)/);

    // kubectl ran with the drainer's kubeconfig: its certificate is the drainer's, signed by the cluster CA.
    // (The masters' CoreDNS hook runs this kubectl too: the drain is the call that says `drain`.)
    const call = readFileSync(join(bin, 'calls'), 'utf8')
      .trim()
      .split('\n')
      .find((line) => / drain /.test(line))!;
    const kubeconfigPath = /--kubeconfig=(\S+)/.exec(call)![1]!;
    expect(kubeconfigPath).toMatch(/drainer\.kubeconfig$/);
    expect(call).toContain('drain worker-1 --ignore-daemonsets');
    // The agent writes config files as JSON (a subset of YAML).
    const kubeconfig = JSON.parse(readFileSync(kubeconfigPath, 'utf8')) as {
      clusters: Array<{ cluster: Record<string, string> }>;
      users: Array<{ name: string; user: Record<string, string> }>;
    };
    const certFile = kubeconfig.users[0]!.user['client-certificate']!;
    const caFile = kubeconfig.clusters[0]!.cluster['certificate-authority']!;
    expect(kubeconfig.users[0]!.name).toBe('system:slipway:drainer');
    expect(execFileSync('openssl', ['x509', '-noout', '-subject', '-in', certFile], { encoding: 'utf8' })).toMatch(
      /CN ?= ?system:slipway:drainer/,
    );
    expect(execFileSync('openssl', ['verify', '-CAfile', caFile, certFile], { encoding: 'utf8' })).toContain(': OK');
  }, 180_000);
});

async function waitForEnd(cp: Awaited<ReturnType<typeof startLocalControlPlane>>, taskId: number) {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const task = await cp.services.clusters.getTask(cp.admin, taskId);
    if (['done', 'error', 'cancelled', 'timeout'].includes(task.state)) return task;
    if (Date.now() > deadline) throw new Error(`task ${taskId} still ${task.state}: ${JSON.stringify(task.steps)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
