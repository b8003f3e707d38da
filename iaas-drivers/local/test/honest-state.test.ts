import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from './support.js';
// @ts-expect-error plain JavaScript shared with the benchmarks
import { startLocalControlPlane } from './local-control-plane.mjs';

const onPath = (binary: string) => (process.env.PATH ?? '').split(delimiter).some((dir) => dir && existsSync(join(dir, binary)));
const haveApiServer = onPath('kube-apiserver');

/**
 * The honest state on real processes: the local driver's VMs run the real agent, which finds no kube-*
 * binaries on this machine and reports those jobs `unavailable` with where it looked. A plan that requires
 * the API (the default) must then fail its create with that reason instead of showing "succeeded".
 */
describe.skipIf(haveApiServer)(`a cluster whose Kubernetes binaries are missing${haveApiServer ? ' (skipped: kube-apiserver is on PATH here)' : ''}`, () => {
  let cp: Awaited<ReturnType<typeof startLocalControlPlane>>;

  beforeAll(async () => {
    ensureBuilt(['iaas-drivers/local']);
    cp = await startLocalControlPlane({ masters: 1, workers: 0, requireApi: true, heartbeatSeconds: 0.5 });
  }, 120_000);

  afterAll(async () => {
    await cp?.stop();
    await cp?.killAll();
  }, 60_000);

  it('fails its create naming each missing binary and where the agent looked; the smoke test checks nothing and says why', async () => {
    const failure = await cp.createCluster('nobins', { timeoutMs: 120_000 }).then(() => undefined, (e: Error) => e);
    expect(failure, 'the create must not succeed').toBeInstanceOf(Error);
    expect(failure!.message).toContain('ended error');
    expect(failure!.message).toMatch(/the Kubernetes jobs of cluster nobins cannot run: .*kube-apiserver on master\/0: binary kube-apiserver \(kubernetes 1\.31\.4\) not found in /);
    expect(failure!.message).toContain('or on PATH');
    expect(failure!.message).toContain('require_api: false');

    const view = await cp.services.clusters.get(cp.admin, 'nobins');
    expect(view.last_action_state).toBe('failed');
    expect(view.kubernetes).toEqual({ require_api: true });

    const report = await cp.services.clusters.smokeTest(cp.admin, 'nobins');
    expect(report.passed).toBe(false);
    expect(report.checks.every((c: { state: string }) => c.state === 'not-checked')).toBe(true);
    expect(report.checks[0].detail).toMatch(/^no Kubernetes API to ask: Kubernetes jobs cannot run: .*kube-apiserver on master\/0: binary kube-apiserver/);
  }, 150_000);
});
