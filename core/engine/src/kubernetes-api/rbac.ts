import type { KubernetesObject } from './client.js';

const RBAC = 'rbac.authorization.k8s.io';
const MANAGED = { 'app.kubernetes.io/managed-by': 'slipway' };

/** The identity drains run as: its client certificate's CN, and the ClusterRole and binding of that name. */
export const DRAINER_USER = 'system:slipway:drainer';

/** Name of the binding that gives `user` the ClusterRole `role` (one per user and role, so re-applying is idempotent). */
export function bindingName(role: string, user: string): string {
  return `slipway:${role}:${user}`;
}

/**
 * A ClusterRoleBinding of `role` (a ClusterRole such as `cluster-admin`) to the user a kubeconfig's client
 * certificate names (its CN): what PKS applied for a `clusters.manage` user's own cluster.
 */
export function userRoleBinding(user: string, role: string): KubernetesObject {
  return {
    apiVersion: `${RBAC}/v1`,
    kind: 'ClusterRoleBinding',
    metadata: { name: bindingName(role, user), labels: { ...MANAGED } },
    roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: role },
    subjects: [{ apiGroup: RBAC, kind: 'User', name: user }],
  };
}

/**
 * What `kubectl drain` needs and nothing more: read pods, DaemonSets (to skip their pods) and nodes,
 * patch the node (cordon), and evict pods through the Eviction API, which honours PodDisruptionBudgets
 * (`--force` evicts pods no controller manages the same way; only `--disable-eviction` would delete).
 */
export function drainerClusterRole(): KubernetesObject {
  return {
    apiVersion: `${RBAC}/v1`,
    kind: 'ClusterRole',
    metadata: { name: DRAINER_USER, labels: { ...MANAGED } },
    rules: [
      { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'patch'] },
      { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] },
      { apiGroups: [''], resources: ['pods/eviction'], verbs: ['create'] },
      { apiGroups: ['apps'], resources: ['daemonsets'], verbs: ['get', 'list'] },
    ],
  };
}

export function drainerClusterRoleBinding(): KubernetesObject {
  return {
    apiVersion: `${RBAC}/v1`,
    kind: 'ClusterRoleBinding',
    metadata: { name: DRAINER_USER, labels: { ...MANAGED } },
    roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: DRAINER_USER },
    subjects: [{ apiGroup: RBAC, kind: 'User', name: DRAINER_USER }],
  };
}
