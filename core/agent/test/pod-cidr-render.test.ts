import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ClusterSettings, PodRouting, TlsMaterial } from '@slipway/contracts';
import { agentPaths, KUBERNETES_JOBS, type RenderContext } from '../src/index.js';

const PEM = { certificate: 'CERT', privateKey: 'KEY', ca: 'CA' } satisfies TlsMaterial;

/** A worker's render context as the control plane's properties make it: node worker-1 owns 10.200.4.0/24. */
function context(podRouting?: PodRouting): RenderContext {
  const paths = agentPaths('/node');
  const cluster: ClusterSettings = {
    id: 'c',
    name: 'pods',
    kubernetesVersion: '1.31.4',
    serviceCidr: '10.100.200.0/24',
    podCidr: '10.200.0.0/16',
    clusterDns: '10.100.200.10',
    clusterDomain: 'cluster.local',
    externalHostname: 'pods.test',
    apiPort: 8443,
    apiServerUrl: 'https://10.0.0.10:8443',
    masters: [{ name: 'master-0', ip: '10.0.0.10' }],
    nodes: [
      { name: 'master-0', ip: '10.0.0.10', podCidr: '10.200.0.0/24' },
      { name: 'worker-1', ip: '10.0.1.11', podCidr: '10.200.4.0/24' },
    ],
    ...(podRouting ? { podRouting } : {}),
  };
  const node = { name: 'worker-1', ip: '10.0.1.11', group: 'worker' as const, index: 1, podCidr: '10.200.4.0/24' };
  const tls = Object.fromEntries(
    [
      'kubelet',
      'kubelet-client',
      'kube-proxy',
      'kubernetes-ca',
      'kube-controller-manager',
      'front-proxy-ca',
      'service-account',
    ].map((r) => [r, PEM]),
  );
  return {
    cluster,
    node,
    tls,
    properties: { cluster, node, tls },
    paths,
    jobDir: join(paths.jobsDir, 'job'),
    file: (relative) => join(paths.jobsDir, 'job', relative),
    jobFile: (job, relative) => join(paths.jobsDir, job, relative),
    cni: { binDir: '/opt/cni/bin', confDir: '/etc/cni/net.d' },
    host: { resolvConf: '/etc/resolv.conf' },
  };
}

describe("one source of a node's pod CIDR", () => {
  it("the kubelet's podCIDR and the CNI's host-local range are the control plane's allocation, and the controller-manager allocates none", () => {
    const ctx = context();
    const kubelet = KUBERNETES_JOBS.kubelet!.render(ctx);
    expect(kubelet.files.find((f) => f.path.endsWith('config.yaml'))!.content).toMatch(
      /"?podCIDR"?: "?10\.200\.4\.0\/24"?/,
    );
    const conflist = JSON.parse(
      KUBERNETES_JOBS.cni!.render(ctx).files.find((f) => f.path.endsWith('10-slipway.conflist'))!.content,
    );
    expect(conflist.plugins[0].ipam.ranges).toEqual([[{ subnet: '10.200.4.0/24' }]]);
    const kcm = KUBERNETES_JOBS['kube-controller-manager']!.render(ctx).processes[0]!.args;
    expect(kcm).toContain('--allocate-node-cidrs=false');
    expect(kcm).not.toContain('--allocate-node-cidrs=true');
  });

  it("with a CNI of the operator's (Antrea, flannel) the controller-manager is the one allocator and Slipway writes no CNI config", () => {
    const ctx = context('none');
    expect(KUBERNETES_JOBS.cni!.render(ctx).files).toEqual([]);
    const kcm = KUBERNETES_JOBS['kube-controller-manager']!.render(ctx).processes[0]!.args;
    expect(kcm).toContain('--allocate-node-cidrs=true');
    expect(kcm).toContain('--cluster-cidr=10.200.0.0/16');
  });
});
