import type { Credential, CredentialContext, CredentialPermission, CredentialProvider, PermissionOperation } from '@slipway/contracts';
import {
  issueKubernetesPki, issueKubernetesUserCertificate, kubernetesTrustBundle, removeKubernetesNodeCredentials,
  rotateKubernetesCa, rotateKubernetesLeaves, DEFAULT_SERVICE_IP,
  type CaRotationPhase, type CaRotationResult, type KubernetesCa, type KubernetesNode,
} from '@slipway/pki/kubernetes';

export { CA_ROTATION_PHASES, KUBERNETES_CAS, type CaRotationPhase, type CaRotationResult, type KubernetesCa, type KubernetesNode } from '@slipway/pki/kubernetes';
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
export function issueClusterPki(provider: CredentialProvider, ctx: CredentialContext, input: ClusterPkiInput): Promise<string[]> {
  const { clusterId, ...rest } = input;
  return issueKubernetesPki(provider, ctx, { ...rest, path: clusterCredentialPath(clusterId) });
}

/** A client certificate for a user (CN = user name, O = groups) signed by the cluster CA, for kubeconfigs. */
export function issueUserCertificate(provider: CredentialProvider, ctx: CredentialContext, clusterId: string, username: string, groups: string[] = []): Promise<Credential<'certificate'>> {
  return issueKubernetesUserCertificate(provider, ctx, clusterCredentialPath(clusterId), username, groups);
}

/** One phase of a CA rotation (see CA_ROTATION_PHASES); deploy after each phase before the next. */
export function rotateClusterCa(provider: CredentialProvider, ctx: CredentialContext, clusterId: string, phase: CaRotationPhase, options: { cas?: readonly KubernetesCa[] } = {}): Promise<CaRotationResult> {
  return rotateKubernetesCa(provider, ctx, clusterCredentialPath(clusterId), phase, options);
}

/** Reissues every leaf certificate of the cluster, keeping its CAs. */
export function rotateClusterLeaves(provider: CredentialProvider, ctx: CredentialContext, clusterId: string, options: { cas?: readonly KubernetesCa[] } = {}): Promise<string[]> {
  return rotateKubernetesLeaves(provider, ctx, clusterCredentialPath(clusterId), options);
}

/** What a peer must trust for a CA now (kube-apiserver --client-ca-file for `kubernetes-ca`). */
export function clusterTrustBundle(provider: CredentialProvider, ctx: CredentialContext, clusterId: string, ca: KubernetesCa = 'kubernetes-ca'): Promise<string> {
  return kubernetesTrustBundle(provider, ctx, clusterCredentialPath(clusterId), ca);
}

/** Deletes a departed node's kubelet and etcd credentials. */
export function removeNodeCredentials(provider: CredentialProvider, ctx: CredentialContext, clusterId: string, nodeName: string): Promise<string[]> {
  return removeKubernetesNodeCredentials(provider, ctx, clusterCredentialPath(clusterId), nodeName);
}

/** The credential actor of a Slipway user, as the credential API authenticates them. */
export function userActor(username: string): string {
  return `user:${username}`;
}

/**
 * Lets `actor` (the cluster's owner: `userActor(owner)`) use the cluster's credentials: read by default,
 * which is what get-credentials and `slipway credentials get` need. A provider without permissions (the
 * verb is optional) enforces none, so there is nothing to grant: returns null.
 */
export async function grantClusterAccess(provider: CredentialProvider, ctx: CredentialContext, clusterId: string, actor: string, operations: PermissionOperation[] = ['read']): Promise<CredentialPermission | null> {
  if (!provider.grant) return null;
  return provider.grant({ actor, path: `${clusterCredentialPath(clusterId)}/*`, operations }, ctx);
}

/** Removes every permission on the cluster's path (when the cluster is deleted). */
export async function revokeClusterAccess(provider: CredentialProvider, ctx: CredentialContext, clusterId: string): Promise<number> {
  if (!provider.revoke) return 0;
  return provider.revoke({ path: `${clusterCredentialPath(clusterId)}/*` }, ctx);
}
