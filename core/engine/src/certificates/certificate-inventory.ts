import {
  SlipwayError,
  type CertificateFact,
  type CertificateValue,
  type Credential,
  type CredentialProvider,
} from '@slipway/contracts';
import { describeCertificate } from '@slipway/pki';
import { ENGINE_ACTOR } from '../agents/agent-identity.js';
import { clusterCredentialPath, KUBERNETES_CAS } from '../cluster-pki.js';
import { forEachLimit } from '../retry.js';

/**
 * What renews a certificate: `ca` a three-phase CA rotation, `leaf` a leaf rotation (cluster leaves and the
 * users' kubeconfig certificates), `agent` the node agent itself (short-lived, renewed over its channel).
 */
export const CERTIFICATE_KINDS = ['ca', 'leaf', 'user', 'agent'] as const;
export type CertificateKind = (typeof CERTIFICATE_KINDS)[number];

/** One certificate's public facts: never its key. */
export interface CertificateEntry {
  /** Name under the cluster's credential path (`kube-apiserver`, `nodes/worker-0/kubelet`). */
  name: string;
  kind: CertificateKind;
  common_name: string;
  alt_names: string[];
  /** The CA that signed it, under the same path; itself for a self-signed CA. */
  signed_by: string | null;
  serial: string;
  not_before: string;
  not_after: string;
  /** Whole days until not_after by the control plane's clock (negative once expired). */
  days_left: number;
  /** A CA version still trusted during a rotation, besides the signing one. */
  transitional: boolean;
}

const DAY_MS = 86_400_000;

/** Days from `now` to `notAfter`, rounded down (a certificate with 6.9 days left has 6). */
export function daysLeft(notAfter: string | Date, now: number): number {
  return Math.floor((new Date(notAfter).getTime() - now) / DAY_MS);
}

function kindOf(name: string, isCa: boolean): CertificateKind {
  if (isCa || (KUBERNETES_CAS as readonly string[]).includes(name)) return 'ca';
  if (name.startsWith('agents/')) return 'agent';
  if (name.startsWith('users/')) return 'user';
  return 'leaf';
}

/** A certificate version's public half from a credential read in full. */
export function factOf(credential: Credential): CertificateFact {
  const value = credential.value as CertificateValue;
  return {
    name: credential.name,
    certificate: value.certificate,
    ca_name: value.ca_name ?? null,
    transitional: credential.transitional ?? false,
  };
}

/** A certificate version as an entry; `base` is stripped from names. */
export function certificateEntry(fact: CertificateFact, base: string, now: number): CertificateEntry {
  const info = describeCertificate(fact.certificate);
  const relative = (n: string) => (n.startsWith(`${base}/`) ? n.slice(base.length + 1) : n);
  const name = relative(fact.name);
  const cn = /(?:^|\n)CN=([^\n]*)/.exec(info.subject)?.[1] ?? '';
  return {
    name,
    kind: kindOf(name, info.isCa),
    common_name: cn,
    alt_names: info.altNames,
    signed_by: fact.ca_name ? relative(fact.ca_name) : null,
    serial: info.serial,
    not_before: info.notBefore.toISOString(),
    not_after: info.notAfter.toISOString(),
    days_left: daysLeft(info.notAfter, now),
    transitional: fact.transitional,
  };
}

/**
 * Every certificate of a cluster in the credential store, each version in use (a CA in rotation shows its
 * transitional version too), soonest expiry first. Read as the engine; callers decide what a user may see.
 */
export async function clusterCertificates(
  provider: CredentialProvider,
  clusterUuid: string,
  now: number,
): Promise<CertificateEntry[]> {
  const base = clusterCredentialPath(clusterUuid);
  // Public halves only when the provider can list them: no key is decrypted, one audit record per check.
  const facts = provider.certificateFacts
    ? await provider.certificateFacts({ path: base }, ENGINE_ACTOR)
    : await readAll(provider, base);
  return facts
    .map((f) => certificateEntry(f, base, now))
    .sort((a, b) => a.not_after.localeCompare(b.not_after) || a.name.localeCompare(b.name));
}

/** A provider without certificateFacts: every credential under the path, read in full. */
async function readAll(provider: CredentialProvider, base: string): Promise<CertificateFact[]> {
  const names = (await provider.find({ path: base }, ENGINE_ACTOR)).map((f) => f.name);
  const facts: CertificateFact[] = [];
  await forEachLimit(names, 8, async (name) => {
    let versions: Credential[];
    try {
      versions = provider.getCurrent
        ? await provider.getCurrent(name, ENGINE_ACTOR)
        : [await provider.get(name, ENGINE_ACTOR)];
    } catch (e) {
      if (SlipwayError.is(e, 'NotFound')) return; // deleted while listing (a departing node)
      throw e;
    }
    for (const v of versions) if (v.type === 'certificate') facts.push(factOf(v));
  });
  return facts;
}
