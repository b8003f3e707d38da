import type { JobSpec } from '@slipway/contracts';

/**
 * What each instance group runs, as kubo-release laid it out: masters colocate etcd with the control plane
 * (and apply CoreDNS once the API answers); workers run containerd, the CNI config, kubelet and kube-proxy.
 * `cni` and `coredns` have no long-running process: the agent renders them (and runs coredns's apply hook).
 */
export const JOBS_BY_GROUP: Record<'master' | 'worker', JobSpec[]> = {
  master: [
    { name: 'etcd', processes: ['etcd'] },
    { name: 'kube-apiserver', processes: ['kube-apiserver'] },
    { name: 'kube-controller-manager', processes: ['kube-controller-manager'] },
    { name: 'kube-scheduler', processes: ['kube-scheduler'] },
    { name: 'coredns', processes: [] },
  ],
  worker: [
    { name: 'containerd', processes: ['containerd'] },
    { name: 'cni', processes: [] },
    { name: 'kubelet', processes: ['kubelet'] },
    { name: 'kube-proxy', processes: ['kube-proxy'] },
  ],
};
