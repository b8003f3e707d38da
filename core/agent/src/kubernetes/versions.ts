/**
 * Versions of what a Kubernetes release runs with, as its release notes and kubeadm's constants name them.
 * The agent picks binaries by these: `{packagesDir}/{package}/{version}/bin/{binary}`.
 */
export interface ComponentVersions {
  kubernetes: string;
  etcd: string;
  coredns: string;
  pause: string;
  containerd: string;
  cni: string;
}

const BY_MINOR: Record<string, Omit<ComponentVersions, 'kubernetes'>> = {
  '1.29': { etcd: '3.5.10', coredns: '1.11.1', pause: '3.9', containerd: '1.7.13', cni: '1.4.0' },
  '1.30': { etcd: '3.5.12', coredns: '1.11.1', pause: '3.9', containerd: '1.7.16', cni: '1.4.1' },
  '1.31': { etcd: '3.5.15', coredns: '1.11.3', pause: '3.10', containerd: '1.7.22', cni: '1.5.1' },
  '1.32': { etcd: '3.5.16', coredns: '1.11.3', pause: '3.10', containerd: '1.7.24', cni: '1.6.1' },
};

/** The component versions for a Kubernetes version; an unknown minor takes the newest known one's. */
export function componentVersions(kubernetes: string): ComponentVersions {
  const minor = kubernetes.split('.').slice(0, 2).join('.');
  const known = BY_MINOR[minor] ?? BY_MINOR[Object.keys(BY_MINOR).sort(compareMinor).at(-1)!]!;
  return { kubernetes, ...known };
}

function compareMinor(a: string, b: string): number {
  const [a1, a2] = a.split('.').map(Number);
  const [b1, b2] = b.split('.').map(Number);
  return a1! - b1! || a2! - b2!;
}
