import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterSummary } from '../src/commands/clusters.js';
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

describe('slipway network profiles', () => {
  it('creates a profile from a file, lists and shows it, and deletes it', async () => {
    const file = join(user.dir, 'dns.json');
    await writeFile(
      file,
      JSON.stringify({
        name: 'dns',
        description: 'our resolvers',
        parameters: { nodes_dns: ['10.53.0.10'], lb_size: 'medium' },
      }),
    );
    const created = await user.run(['create-network-profile', file]);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toBe('Network profile dns created.\n');
    const listed = await user.run(['network-profiles']);
    expect(listed.stdout).toMatch(/dns\s+our resolvers\s+nodes_dns, lb_size/);
    const shown = await user.run(['network-profile', 'dns']);
    expect(shown.stdout).toMatch(/Parameter nodes_dns:?\s+\["10.53.0.10"\]/);
    const deleted = await user.run(['delete-network-profile', 'dns', '--non-interactive']);
    expect(deleted.code, deleted.stderr).toBe(0);
    expect((await user.run(['network-profile', 'dns'])).code).toBe(1);
  });

  it('names every bad field of a profile file', async () => {
    const file = join(user.dir, 'bad.json');
    await writeFile(
      file,
      JSON.stringify({
        name: 'bad',
        parameters: { nodes_dns: ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4'], failover_mode: 'SOMETIMES' },
      }),
    );
    const run = await user.run(['create-network-profile', file]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('parameters.nodes_dns: must NOT have more than 3 items');
    expect(run.stderr).toContain('parameters.failover_mode: must be one of "PREEMPTIVE", "NON_PREEMPTIVE"');
    await writeFile(file, '{ not json');
    const broken = await user.run(['create-network-profile', file]);
    expect(broken.stderr).toMatch(/bad.json is not valid JSON/);
  });

  it('creates a cluster with --network-profile and moves it to another with update-cluster --network-profile', async () => {
    for (const [name, dns] of [
      ['dns-a', '10.53.1.10'],
      ['dns-b', '10.53.1.20'],
    ]) {
      const file = join(user.dir, `${name}.json`);
      await writeFile(file, JSON.stringify({ name, parameters: { nodes_dns: [dns], lb_size: 'small' } }));
      expect((await user.run(['create-network-profile', file])).code).toBe(0);
    }
    const created = await user.run([
      'create-cluster',
      'np',
      '-p',
      'small',
      '-e',
      'np.example.test',
      '-n',
      '1',
      '--network-profile',
      'dns-a',
      '--wait',
    ]);
    expect(created.code, created.stderr).toBe(0);
    expect((await user.run(['cluster', 'np'])).stdout).toMatch(/Network Profile:?\s+dns-a/);
    const updated = await user.run(['update-cluster', 'np', '--network-profile', 'dns-b', '--wait']);
    expect(updated.code, updated.stderr).toBe(0);
    expect(updated.stdout).toContain('Updating cluster np to network profile dns-b');
    expect((await user.run(['cluster', 'np'])).stdout).toMatch(/Network Profile:?\s+dns-b/);
    const inUse = await user.run(['delete-network-profile', 'dns-b', '--non-interactive']);
    expect(inUse.code).toBe(1);
    expect(inUse.stderr).toMatch(/network profile "dns-b" is used by 1 cluster/);
  }, 120_000);

  it('doctor --leftovers says when there are none', async () => {
    const run = await user.run(['doctor', '--leftovers']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe('No network leftovers: every network object belongs to a live cluster.\n');
    expect((await user.run(['doctor'])).stderr).toMatch(/name the CLUSTER to check, or pass --leftovers/);
  });

  it('shows the VIP first, marked as the load balancer, then the masters', () => {
    const text = clusterSummary({
      name: 'c',
      uuid: 'u',
      plan_name: 'small',
      last_action: 'CREATE',
      last_action_state: 'succeeded',
      last_action_description: null,
      task_id: 1,
      kubernetes_master_ips: ['127.77.0.10', '10.0.0.2', '10.0.0.3'],
      kubernetes_api_vip: '127.77.0.10',
      network_profile_name: 'dns',
      k8s_version: '1.31.4',
      parameters: { kubernetes_master_host: 'c.example', kubernetes_master_port: 8443, kubernetes_worker_instances: 1 },
    });
    expect(text).toMatch(/Kubernetes Master IP\(s\):?\s+127\.77\.0\.10 \(load balancer\), 10\.0\.0\.2, 10\.0\.0\.3/);
    expect(text).toMatch(/Network Profile:?\s+dns/);
  });
});
