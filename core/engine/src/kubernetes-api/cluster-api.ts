import { inject, injectable } from 'tsyringe';
import type { InjectionToken } from 'tsyringe';
import type { CertificateValue } from '@slipway/contracts';
import { SlipwayError } from '@slipway/contracts';
import { ENGINE_ACTOR } from '../agents/agent-identity.js';
import { clusterCredentialPath, clusterTrustBundle } from '../cluster-pki.js';
import type { SlipwayConfig } from '../config/schema.js';
import { KUBERNETES_API_PORT } from '../kubernetes.js';
import type { PluginSet } from '../plugins/plugin-set.js';
import type { ClusterRow, Store } from '../store/index.js';
import { CONFIG, PLUGINS, STORE } from '../tokens.js';
import { KubernetesApiClient } from './client.js';
import { describeUnavailable, unavailableJobs, type UnavailableJob } from './job-report.js';

/**
 * Where the control plane dials a cluster's API: `https://ADDRESS:PORT`, or undefined while the cluster has
 * none. The default is the API endpoint (the VIP or the first master) on port 8443; a test points it at a
 * server of its own on 127.0.0.1.
 */
export type KubernetesApiAddress = (cluster: ClusterRow, masterIps: string[]) => string | undefined;
export const KUBERNETES_API_ADDRESS: InjectionToken<KubernetesApiAddress> = 'slipway.kubernetes-api-address';

export const defaultApiAddress: KubernetesApiAddress = (cluster, masterIps) => {
  const address = cluster.api_address ?? masterIps[0];
  if (!address) return undefined;
  return `https://${address.includes(':') ? `[${address}]` : address}:${KUBERNETES_API_PORT}`;
};

/** Why the control plane cannot talk to a cluster's API, when it cannot: for step details and the smoke test. */
export type ApiAbsence =
  | { kind: 'not-required'; plan: string; unavailable: UnavailableJob[] }
  | { kind: 'unavailable'; unavailable: UnavailableJob[] }
  | { kind: 'no-address' };

export function describeAbsence(absence: ApiAbsence): string {
  switch (absence.kind) {
    case 'not-required':
      return `plan ${absence.plan} says kubernetes.require_api: false${absence.unavailable.length ? ` (${describeUnavailable(absence.unavailable, 3)})` : ''}`;
    case 'unavailable':
      return `Kubernetes jobs cannot run: ${describeUnavailable(absence.unavailable)}`;
    case 'no-address':
      return 'the cluster has no API address yet';
  }
}

/**
 * The control plane's access to one cluster's Kubernetes API: whether the cluster has one (its plan requires
 * it and its agents can run it), and a client that authenticates with the cluster's admin certificate (or
 * another identity the cluster CA signed) and verifies the server against the cluster's trust bundle.
 */
@injectable()
export class ClusterApi {
  constructor(
    @inject(STORE) private readonly store: Store,
    @inject(PLUGINS) private readonly plugins: PluginSet,
    @inject(CONFIG) private readonly config: SlipwayConfig,
    @inject(KUBERNETES_API_ADDRESS) private readonly address: KubernetesApiAddress,
  ) {}

  /** The plan's `kubernetes.require_api` (true unless the plan says false; a plan since removed counts as true). */
  requiresApi(cluster: Pick<ClusterRow, 'plan_name'>): boolean {
    const plan = this.config.plans.find((p) => p.name === cluster.plan_name);
    return plan?.kubernetes?.require_api !== false;
  }

  get readyTimeoutMs(): number {
    return (this.config.kubernetes.api_ready_timeout_seconds ?? 300) * 1000;
  }

  /** Jobs the cluster's present instances report unavailable. */
  async unavailable(clusterUuid: string): Promise<UnavailableJob[]> {
    const instances = (await this.store.instances.ofCluster(clusterUuid)).filter((i) => i.desired === 'present');
    return unavailableJobs(instances);
  }

  /** Why there is no API to talk to, or undefined when there should be one. */
  async absence(cluster: ClusterRow): Promise<ApiAbsence | undefined> {
    const unavailable = await this.unavailable(cluster.uuid);
    if (!this.requiresApi(cluster)) return { kind: 'not-required', plan: cluster.plan_name, unavailable };
    if (unavailable.length) return { kind: 'unavailable', unavailable };
    if (!this.address(cluster, await this.store.instances.masterIps(cluster.uuid))) return { kind: 'no-address' };
    return undefined;
  }

  /** A client of the cluster's API as `identity` (a certificate name under the cluster's credential path). */
  async client(
    cluster: ClusterRow,
    identity = 'admin',
    options: { timeoutMs?: number } = {},
  ): Promise<KubernetesApiClient> {
    const url = this.address(cluster, await this.store.instances.masterIps(cluster.uuid));
    if (!url) throw new SlipwayError('Conflict', `cluster "${cluster.name}" has no API address yet`);
    const credential = await this.plugins.credentials.get(
      `${clusterCredentialPath(cluster.uuid)}/${identity}`,
      ENGINE_ACTOR,
    );
    const certificate = credential.value as CertificateValue;
    const caPem = await clusterTrustBundle(this.plugins.credentials, ENGINE_ACTOR, cluster.uuid);
    return new KubernetesApiClient(
      {
        url,
        serverName: cluster.external_hostname,
        caPem,
        certificatePem: certificate.certificate,
        privateKeyPem: certificate.private_key,
      },
      options,
    );
  }
}
