import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, UserWorkspace, startTestControlPlane } from './harness.js';

type ControlPlane = Awaited<ReturnType<typeof startTestControlPlane>>;
let plane: ControlPlane;
let user: UserWorkspace;

beforeAll(async () => {
  [plane, user] = await Promise.all([startTestControlPlane(), UserWorkspace.create()]);
  const login = await user.run([
    'login',
    '-a',
    plane.cp.url,
    '-u',
    'admin',
    '-p',
    ADMIN_PASSWORD,
    '--ca-cert',
    plane.cp.caPath,
  ]);
  expect(login.code, login.stderr).toBe(0);
}, 60_000);
afterAll(async () => {
  await plane?.stop();
  await user?.remove();
});

describe('slipway quotas and usages', () => {
  it('sets, changes, lists, shows and deletes a quota', async () => {
    const set = await user.run(['set-quota', 'dana', '--clusters', '3', '--cpu', '20', '--memory', '64']);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toBe('Quota of dana: clusters 3, CPUs 20, memory 64 GB.\n');
    const changed = await user.run(['set-quota', 'dana', '--memory', 'none', '--cpu', '24']);
    expect(changed.stdout).toBe('Quota of dana: clusters 3, CPUs 24, memory no limit.\n');
    const listed = await user.run(['quotas']);
    expect(listed.stdout.split('\n')[0]).toMatch(/^Owner\s+Clusters\s+CPUs\s+Memory \(GB\)\s+Updated$/);
    expect(listed.stdout).toMatch(/\ndana\s+3\s+24\s+no limit\s+\S+/);
    const shown = await user.run(['quota', 'dana', '--json']);
    expect(JSON.parse(shown.stdout)).toMatchObject({
      owner: 'dana',
      limit: { cluster: 3, cpu: 24, memory: null },
      created_by: 'admin',
    });
    const bad = await user.run(['set-quota', 'dana', '--cpu', 'lots']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--cpu must be a whole number from 0, or "none" for no limit; got "lots"');
    const deleted = await user.run(['delete-quota', 'dana', '--non-interactive']);
    expect(deleted.stdout).toBe('Quota of dana deleted; no limits apply to it.\n');
    expect((await user.run(['quotas'])).stdout).toContain('No quotas');
  });

  it("shows usages per owner and per cluster, from the plan's VM types", async () => {
    const created = await user.run([
      'create-cluster',
      'u1',
      '-p',
      'small',
      '-e',
      'u1.example.test',
      '-n',
      '1',
      '--wait',
    ]);
    expect(created.code, created.stderr).toBe(0);
    const [small] = JSON.parse((await user.run(['plans', '--json'])).stdout).filter(
      (p: { name: string }) => p.name === 'small',
    );
    const cpu = small.master_instances * small.vm_type.master.cpu + small.vm_type.worker.cpu;
    const memory = (small.master_instances * small.vm_type.master.memory_mb + small.vm_type.worker.memory_mb) / 1024;
    const all = await user.run(['usages']);
    expect(all.stdout).toMatch(new RegExp(`\\nadmin\\s+1\\s+${cpu}\\s+${memory}\\n`));
    const one = await user.run(['usages', 'admin']);
    expect(one.stdout).toMatch(/^Owner: admin \(1 cluster\)\nCluster\s+CPUs\s+Memory \(GB\)\n/);
    expect(one.stdout).toMatch(new RegExp(`\\nu1\\s+${cpu}\\s+${memory}\\nTotal\\s+${cpu}\\s+${memory}\\n$`));
    expect(JSON.parse((await user.run(['usages', 'admin', '--json'])).stdout)).toEqual({
      owner: 'admin',
      totals: { cpu, memory, cluster: 1 },
      clusters: [{ name: 'u1', cpu, memory }],
    });
  }, 90_000);
});
