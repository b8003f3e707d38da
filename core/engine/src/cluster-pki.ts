import type { Credential, CredentialContext, CredentialProvider } from '@slipway/contracts';
import {
  issueKubernetesPki,
  issueKubernetesUserCertificate,
  kubernetesTrustBundle,
  removeKubernetesNodeCredentials,
  rotateKubernetesCa,
  rotateKubernetesLeaves,
  DEFAULT_SERVICE_IP,
  KUBERNETES_CAS,
  type CaRotationPhase,
  type CaRotationResult,
  type KubernetesCa,
  type KubernetesNode,
  type UserCertificateOptions,
} from '@slipway/pki/kubernetes';

export {
  CA_ROTATION_PHASES,
  KUBERNETES_CAS,
  type CaRotationPhase,
  type CaRotationResult,
  type KubernetesCa,
  type KubernetesNode,
} from '@slipway/pki/kubernetes';
export { DEFAULT_SERVICE_IP };

export interface ClusterPkiInput {
  clusterId: string;
  externalHostname: string;
  /** Master addresses; enough on their own (nodes are then named `master-N`), superseded by `masters`. */
  masterIps?: string[];
  /** First address of the service CIDR: the in-cluster `kubernetes` service. */
  serviceClusterIp?: string;
  /** Masters by node name and address: each gets etcd server and peer, kubelet serving and client certificates. */
  masters?: KubernetesNode[];
  /** Workers by node name and address: each gets kubelet serving and client certificates. */
  workers?: KubernetesNode[];
  /** Cluster DNS domain for the API server's SANs; default `cluster.local`. */
  clusterDomain?: string;
  /** The API VIP (a load-balanced network), in the API server's SANs so clients verify it. */
  apiAddresses?: string[];
}

export function clusterCredentialPath(clusterId: string): string {
  return `/slipway/clusters/${clusterId}`;
}

export function clusterCaName(clusterId: string): string {
  return `${clusterCredentialPath(clusterId)}/kubernetes-ca`;
}

/**
 * Issues a cluster's PKI through the credential provider (layout in @slipway/pki/kubernetes): CAs for
 * Kubernetes, etcd and the front proxy, the service-account key, API server and component certificates,
 * and per-node etcd and kubelet certificates. Converge mode: a resumed task gets what exists back, and
 * only what changed is reissued. Returns every credential name.
 */
export function issueClusterPki(
  provider: CredentialProvider,
  ctx: CredentialContext,
  input: ClusterPkiInput,
): Promise<string[]> {
  const { clusterId, ...rest } = input;
  return issueKubernetesPki(provider, ctx, { ...rest, path: clusterCredentialPath(clusterId) });
}

/**
 * A client certificate for a user (CN = user name, O = groups) signed by the cluster CA, for kubeconfigs;
 * stored under `users/{user id}`, the path the user's own grant covers.
 */
export function issueUserCertificate(
  provider: CredentialProvider,
  ctx: CredentialContext,
  clusterId: string,
  user: { id: number; name: string },
  groups: string[] = [],
  options: UserCertificateOptions = {},
): Promise<Credential<'certificate'>> {
  return issueKubernetesUserCertificate(
    provider,
    ctx,
    clusterCredentialPath(clusterId),
    user.name,
    groups,
    String(user.id),
    options,
  );
}

/** One phase of a CA rotation (see CA_ROTATION_PHASES); deploy after each phase before the next. */
export function rotateClusterCa(
  provider: CredentialProvider,
  ctx: CredentialContext,
  clusterId: string,
  phase: CaRotationPhase,
  options: { cas?: readonly KubernetesCa[] } = {},
): Promise<CaRotationResult> {
  return rotateKubernetesCa(provider, ctx, clusterCredentialPath(clusterId), phase, options);
}

/** Reissues every leaf certificate of the cluster, keeping its CAs. */
export function rotateClusterLeaves(
  provider: CredentialProvider,
  ctx: CredentialContext,
  clusterId: string,
  options: { cas?: readonly KubernetesCa[] } = {},
): Promise<string[]> {
  return rotateKubernetesLeaves(provider, ctx, clusterCredentialPath(clusterId), options);
}

/** What a peer must trust for a CA now (kube-apiserver --client-ca-file for `kubernetes-ca`). */
export function clusterTrustBundle(
  provider: CredentialProvider,
  ctx: CredentialContext,
  clusterId: string,
  ca: KubernetesCa = 'kubernetes-ca',
): Promise<string> {
  return kubernetesTrustBundle(provider, ctx, clusterCredentialPath(clusterId), ca);
}

/** Deletes a departed node's kubelet and etcd credentials. */
export function removeNodeCredentials(
  provider: CredentialProvider,
  ctx: CredentialContext,
  clusterId: string,
  nodeName: string,
): Promise<string[]> {
  return removeKubernetesNodeCredentials(provider, ctx, clusterCredentialPath(clusterId), nodeName);
}

/**
 * The credential actor of a Slipway user: by its immutable id (as CredHub names UAA users by guid), so a user
 * created later with a deleted user's name holds none of its grants or audit trail.
 */
export function userActor(user: { id: number }): string {
  return `user:${user.id}`;
}

/**
 * What a cluster's owner reads through the credential API, and nothing else: the cluster's CA certificates
 * (the provider withholds their keys, see CREDENTIAL_SCOPES in @slipway/pki) and its own kubeconfig
 * certificate. Node, agent, component and admin credentials and CA keys are the engine's alone.
 */
export function ownerGrantPaths(clusterId: string, ownerId: number): string[] {
  const path = clusterCredentialPath(clusterId);
  return [...KUBERNETES_CAS.map((ca) => `${path}/${ca}`), `${path}/users/${ownerId}`];
}

/**
 * Lets the cluster's owner read what `ownerGrantPaths` lists. A provider without permissions (the verb is
 * optional) enforces none, so there is nothing to grant: returns 0.
 */
export async function grantClusterAccess(
  provider: CredentialProvider,
  ctx: CredentialContext,
  clusterId: string,
  owner: { id: number },
): Promise<number> {
  if (!provider.grant) return 0;
  const paths = ownerGrantPaths(clusterId, owner.id);
  for (const path of paths) await provider.grant({ actor: userActor(owner), path, operations: ['read'] }, ctx);
  return paths.length;
}

/**
 * Removes the owner's entries on the cluster's credentials (only `owner`'s, when given: a reassignment),
 * including the whole-path entry earlier versions granted.
 */
export async function revokeClusterAccess(
  provider: CredentialProvider,
  ctx: CredentialContext,
  clusterId: string,
  owner?: { id: number },
): Promise<number> {
  if (!provider.revoke) return 0;
  const actor = owner ? userActor(owner) : undefined;
  const paths = [
    `${clusterCredentialPath(clusterId)}/*`,
    ...(owner
      ? ownerGrantPaths(clusterId, owner.id)
      : KUBERNETES_CAS.map((ca) => `${clusterCredentialPath(clusterId)}/${ca}`)),
  ];
  let removed = 0;
  for (const path of paths) removed += await provider.revoke(actor ? { path, actor } : { path }, ctx);
  return removed;
}
