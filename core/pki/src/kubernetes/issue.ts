import { X509Certificate } from 'node:crypto';
import {
  SlipwayError,
  type CertificateValue,
  type Credential,
  type CredentialContext,
  type CredentialProvider,
} from '@slipway/contracts';
import {
  kubernetesPkiLayout,
  nodeCredentialNames,
  userCertificateParameters,
  type ClientKeyAlgorithm,
  type KubernetesPkiInput,
  type PkiEntry,
} from './layout.js';

/**
 * The key algorithm of the cluster's existing Kubernetes CA (its client-facing certificates follow it), or
 * undefined for a cluster without one yet (it gets the current layout's ECDSA).
 */
export async function clientKeysOf(
  provider: CredentialProvider,
  ctx: CredentialContext,
  path: string,
): Promise<ClientKeyAlgorithm | undefined> {
  let ca: Credential;
  try {
    ca = await provider.get(`${path.replace(/\/+$/, '')}/kubernetes-ca`, ctx);
  } catch (e) {
    if (SlipwayError.is(e, 'NotFound')) return undefined;
    throw e;
  }
  const type = new X509Certificate((ca.value as CertificateValue).certificate).publicKey.asymmetricKeyType;
  return type === 'rsa' ? 'rsa' : 'ecdsa-p256';
}

/**
 * Issues a cluster's PKI through the credential provider, in converge mode: a re-run (a resumed task)
 * returns what exists, and reissues only what changed (a new master address in the API server's SANs, or
 * a leaf whose CA now signs with a new version). Each entry starts as soon as its CA is ready, so the
 * slow RSA CA does not hold back the ECDSA CAs' leaves. Returns the full names, in layout order.
 */
export async function issueKubernetesPki(
  provider: CredentialProvider,
  ctx: CredentialContext,
  input: KubernetesPkiInput,
): Promise<string[]> {
  const path = input.path.replace(/\/+$/, '');
  const clientKeys = input.clientKeys ?? (await clientKeysOf(provider, ctx, path));
  const entries = kubernetesPkiLayout({ ...input, clientKeys }).flat();
  const started = new Map<string, Promise<unknown>>();
  const issue = async (entry: PkiEntry): Promise<void> => {
    const name = `${path}/${entry.name}`;
    const signer = entry.type === 'certificate' ? entry.parameters.ca : undefined;
    if (signer) await started.get(signer);
    if (entry.type === 'rsa')
      await provider.generate({ name, type: 'rsa', parameters: entry.parameters, mode: 'converge' }, ctx);
    else await provider.generate({ name, type: 'certificate', parameters: entry.parameters, mode: 'converge' }, ctx);
  };
  // CAs come first in the layout, so their promises exist before any leaf looks them up.
  for (const entry of entries) started.set(`${path}/${entry.name}`, issue(entry));
  await Promise.all(started.values());
  return entries.map((e) => `${path}/${e.name}`);
}

/**
 * A client certificate for a user (CN = user name, O = first group) signed by the cluster CA, for kubeconfigs.
 * It is stored under `users/{key}`: the user's immutable id, so a later user of the same name never gets it.
 */
export async function issueKubernetesUserCertificate(
  provider: CredentialProvider,
  ctx: CredentialContext,
  path: string,
  username: string,
  groups: readonly string[] = [],
  key: string = username,
  options: UserCertificateOptions = {},
): Promise<Credential<'certificate'>> {
  const parameters = userCertificateParameters(path, username, groups, await clientKeysOf(provider, ctx, path));
  return provider.generate(
    {
      name: `${path.replace(/\/+$/, '')}/users/${key}`,
      type: 'certificate',
      mode: options.fresh ? 'overwrite' : 'converge',
      parameters: options.durationDays ? { ...parameters, duration: options.durationDays } : parameters,
    },
    ctx,
  );
}

/** How a user's kubeconfig certificate is issued. */
export interface UserCertificateOptions {
  /** Lifetime in whole days (default: the layout's leaf lifetime). */
  durationDays?: number;
  /** A new certificate (a new version) even when the current one would do: each kubeconfig gets a full lifetime. */
  fresh?: boolean;
}

/** Deletes a node's kubelet and etcd credentials (after the node has left the cluster). */
export async function removeKubernetesNodeCredentials(
  provider: CredentialProvider,
  ctx: CredentialContext,
  path: string,
  nodeName: string,
): Promise<string[]> {
  const names = Object.values(nodeCredentialNames(nodeName)).map((n) => `${path.replace(/\/+$/, '')}/${n}`);
  for (const name of names) await provider.delete(name, ctx);
  return names;
}
