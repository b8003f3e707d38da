/**
 * Who may reach which of Slipway's credentials, by path class. This is the one table: the credential provider
 * enforces it before any permission entry or role is looked at, so no grant, admin role or ACL change can
 * widen it. First matching rule wins; `*` is one path segment, `**` any number (at least one).
 *
 * - `engine`: the engine (and the provider's configured full-access service actors) only: read, write,
 *   delete and ACL changes. Nothing of these is returned, listed or signed with for anyone else.
 * - `certificate-authority`: a CA. Anyone the ACLs (or an admin role) let read it gets its certificate with
 *   the private key withheld; signing with it, writing, deleting and changing its ACLs are the engine's.
 * - `granted`: CredHub's model: permission entries, and everything for admin roles.
 */
export type CredentialScope = 'engine' | 'certificate-authority' | 'granted';

export interface CredentialScopeRule {
  pattern: string;
  scope: CredentialScope;
  /** What the holder of these credentials could do, which is why the scope is what it is. */
  why: string;
}

export const CREDENTIAL_SCOPES: readonly CredentialScopeRule[] = [
  {
    pattern: '/slipway/control-plane/**',
    scope: 'engine',
    why: "the control plane's CA, agent CA and serving key: whoever holds them is the control plane",
  },
  {
    pattern: '/slipway/clusters/*/agents/**',
    scope: 'engine',
    why: "an agent's client key: whoever holds it syncs as that VM's agent",
  },
  {
    pattern: '/slipway/clusters/*/kubernetes-ca',
    scope: 'certificate-authority',
    why: 'the key signs any Kubernetes identity; the certificate is what a kubeconfig trusts',
  },
  {
    pattern: '/slipway/clusters/*/etcd-ca',
    scope: 'certificate-authority',
    why: 'the key signs etcd peers and clients (all cluster data)',
  },
  {
    pattern: '/slipway/clusters/*/front-proxy-ca',
    scope: 'certificate-authority',
    why: 'the key signs requests the API server trusts as authenticated by the aggregation proxy',
  },
  {
    pattern: '/slipway/clusters/*/users/*',
    scope: 'granted',
    why: "a user's own kubeconfig certificate: readable by that user (the engine grants it) and admins",
  },
  {
    pattern: '/slipway/clusters/*/registry/push-robot',
    scope: 'granted',
    why: "the CI robot's registry secret: pushes to the cluster's project only; the engine grants the cluster's owner read on it",
  },
  {
    pattern: '/slipway/clusters/*/**',
    scope: 'engine',
    why:
      'the admin (system:masters) certificate, the service-account signing key, component, etcd and kubelet certificates, ' +
      "the nodes' registry pull robot: each lets its holder act as system:masters, a component or a node",
  },
];

/** The scope of a credential name or a permission path (`/a/b/*` is read as a name with a `*` segment). */
export function credentialScope(name: string): CredentialScope {
  const segments = name.split('/').filter(Boolean);
  for (const rule of CREDENTIAL_SCOPES)
    if (matches(rule.pattern.split('/').filter(Boolean), segments)) return rule.scope;
  return 'granted';
}

function matches(pattern: string[], segments: string[]): boolean {
  if (pattern.length === 0) return segments.length === 0;
  const [head, ...rest] = pattern;
  if (head === '**') {
    for (let i = 1; i <= segments.length; i++) if (matches(rest, segments.slice(i))) return true;
    return false;
  }
  if (segments.length === 0) return false;
  return (head === '*' || head === segments[0]) && matches(rest, segments.slice(1));
}
