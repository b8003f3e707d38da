import type { JobSpec } from '@slipway/contracts';

/** What each instance group runs, as kubo-release laid it out: masters colocate etcd with the control plane. */
export const JOBS_BY_GROUP: Record<'master' | 'worker', JobSpec[]> = {
  master: [
    { name: 'etcd', processes: ['etcd'] },
    { name: 'kube-apiserver', processes: ['kube-apiserver'] },
    { name: 'kube-controller-manager', processes: ['kube-controller-manager'] },
    { name: 'kube-scheduler', processes: ['kube-scheduler'] },
  ],
  worker: [
    { name: 'containerd', processes: ['containerd'] },
    { name: 'kubelet', processes: ['kubelet'] },
    { name: 'kube-proxy', processes: ['kube-proxy'] },
  ],
};
