import type { JobSpec } from '@slipway/contracts';

/** What every node runs, masters included: the container runtime, the pod network, kubelet and kube-proxy. */
const NODE_JOBS: JobSpec[] = [
  { name: 'containerd', processes: ['containerd'] },
  { name: 'cni', processes: [] },
  { name: 'kubelet', processes: ['kubelet'] },
  { name: 'kube-proxy', processes: ['kube-proxy'] },
];

/**
 * What each instance group runs. Masters colocate etcd with the control plane (and apply CoreDNS once the
 * API answers) and are nodes too, as kubeadm makes them: without a kubelet, kube-proxy and the pod network
 * on the masters, the API server cannot reach webhooks, aggregated APIs or any Service's pods. Their kubelet
 * registers with the control-plane taint, so workloads stay off them. Workers run only the node jobs.
 * `cni` and `coredns` have no long-running process: the agent renders them (and runs their hooks).
 */
export const JOBS_BY_GROUP: Record<'master' | 'worker', JobSpec[]> = {
  master: [
    { name: 'etcd', processes: ['etcd'] },
    { name: 'kube-apiserver', processes: ['kube-apiserver'] },
    { name: 'kube-controller-manager', processes: ['kube-controller-manager'] },
    { name: 'kube-scheduler', processes: ['kube-scheduler'] },
    { name: 'coredns', processes: [] },
    ...NODE_JOBS,
  ],
  worker: NODE_JOBS,
};
