import { describe, expect, it } from 'vitest';
import { clusterSummary, processWarnings } from '../src/commands/clusters.js';

const cluster = {
  name: 'reg',
  uuid: 'd1c2b3a4-0000-4000-8000-000000000001',
  plan_name: 'small',
  last_action: 'CREATE',
  last_action_state: 'succeeded',
  last_action_description: 'Creating cluster succeeded',
  task_id: 3,
  kubernetes_master_ips: ['10.20.0.2'],
  k8s_version: '1.31.4',
  parameters: {
    kubernetes_master_host: 'reg.example.test',
    kubernetes_master_port: 8443,
    kubernetes_worker_instances: 1,
  },
};

describe('slipway cluster NAME', () => {
  it('shows the registry project and the pull robot when the cluster has them', () => {
    const text = clusterSummary({
      ...cluster,
      registry: {
        project: 'slipway-reg-d1c2b3a4',
        endpoint: 'harbor.example.test',
        pull_robot: 'robot$slipway-reg-d1c2b3a4+nodes-d1c2b3a4',
        push_robot: null,
      },
    });
    expect(text).toMatch(/Registry Project:\s+harbor\.example\.test\/slipway-reg-d1c2b3a4\n/);
    expect(text).toMatch(/Registry Pull Robot:\s+robot\$slipway-reg-d1c2b3a4\+nodes-d1c2b3a4\n/);
  });

  it('shows no registry lines for a cluster without a registry', () => {
    expect(clusterSummary(cluster)).not.toContain('Registry');
  });

  it('with --details, names a process that runs with a warning (etcd of another version than the catalog wants)', () => {
    const warning =
      'etcd at /usr/bin/etcd reports version 3.4.23; the catalog wants 3.5.15 for Kubernetes 1.31.4: install etcd 3.5.15 in /var/vcap/packages/etcd/3.5.15/bin';
    const text = processWarnings([
      {
        name: 'master/0',
        processes: [
          { name: 'etcd', processes: [{ name: 'etcd', state: 'running', warning }] },
          { name: 'kubelet', processes: [{ name: 'kubelet', state: 'running' }] },
        ],
      },
      { name: 'worker/0', processes: [{ name: 'kubelet', processes: [{ name: 'kubelet', state: 'running' }] }] },
    ]);
    expect(text).toBe(`\nWarnings:\n  master/0 etcd: ${warning}\n`);
    expect(processWarnings([{ name: 'worker/0', processes: [] }])).toBe('');
  });
});
