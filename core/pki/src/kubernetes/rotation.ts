import {
  SlipwayError,
  type CertificateValue,
  type Credential,
  type CredentialContext,
  type CredentialProvider,
} from '@slipway/contracts';
import { isSignedBy, pemBundle } from '../x509.js';
import { KUBERNETES_CAS, type KubernetesCa } from './layout.js';

/**
 * CA rotation without downtime, as CredHub's transitional versions allow, in three phases with a deploy
 * (the engine rolling configs to the nodes) after each:
 * 1. `add-new-ca`: a new CA version is generated as transitional. Leaves are still signed by the old CA;
 *    every trust bundle now holds old + new, so peers learn to trust the new CA first.
 * 2. `reissue-leaves`: the new version becomes the signing one and the old is kept as transitional; every
 *    leaf the CA signed is reissued by the new version. Bundles still hold both, so an old leaf on a node
 *    not yet redeployed keeps working.
 * 3. `remove-old-ca`: the old version stops being trusted; bundles hold the new CA alone.
 */
export const CA_ROTATION_PHASES = ['add-new-ca', 'reissue-leaves', 'remove-old-ca'] as const;
export type CaRotationPhase = (typeof CA_ROTATION_PHASES)[number];

export interface CaRotationResult {
  phase: CaRotationPhase;
  /** Per CA: its signing version and its transitional version after the phase. */
  cas: Array<{ name: string; active: string; transitional: string | null }>;
  /** Leaves reissued in this phase. */
  regenerated: string[];
  /** Per CA: the PEM bundle peers must trust after this phase (e.g. kube-apiserver --client-ca-file). */
  bundles: Partial<Record<KubernetesCa, string>>;
}

type RotatingProvider = CredentialProvider &
  Required<Pick<CredentialProvider, 'getCurrent' | 'regenerate' | 'setTransitionalVersion'>>;

function rotating(provider: CredentialProvider): RotatingProvider {
  const missing = (['getCurrent', 'regenerate', 'setTransitionalVersion'] as const).filter(
    (verb) => typeof provider[verb] !== 'function',
  );
  if (missing.length) {
    throw new SlipwayError('Unsupported', `the credential provider cannot rotate CAs: it lacks ${missing.join(', ')}`, {
      hint: 'Use a provider with transitional certificate versions (@slipway/credentials-credhub).',
    });
  }
  return provider as RotatingProvider;
}

/**
 * Runs one phase of a CA rotation for the cluster under `path` (all three CAs unless `cas` says which).
 * Idempotent: a phase that already ran returns the same state, so a resumed task may run it again.
 */
export async function rotateKubernetesCa(
  provider: CredentialProvider,
  ctx: CredentialContext,
  path: string,
  phase: CaRotationPhase,
  options: { cas?: readonly KubernetesCa[] } = {},
): Promise<CaRotationResult> {
  const store = rotating(provider);
  const base = path.replace(/\/+$/, '');
  const cas = options.cas ?? KUBERNETES_CAS;
  const result: CaRotationResult = { phase, cas: [], regenerated: [], bundles: {} };
  for (const ca of cas) {
    const name = `${base}/${ca}`;
    const state = await rotationState(store, ctx, name);
    switch (phase) {
      case 'add-new-ca':
        if (state.transitional && !state.transitionalIsNewer) {
          throw new SlipwayError(
            'Conflict',
            `${name} is still finishing a rotation: its previous version is trusted as transitional`,
            {
              hint: 'Run the remove-old-ca phase of that rotation first.',
            },
          );
        }
        if (!state.transitional) await store.regenerate(name, ctx, { transitional: true });
        break;
      case 'reissue-leaves':
        if (!state.transitional) {
          throw new SlipwayError('Conflict', `${name} has no transitional version: there is no new CA to sign with`, {
            hint: 'Run the add-new-ca phase first.',
          });
        }
        if (state.transitionalIsNewer) await store.setTransitionalVersion(name, state.active.id, ctx);
        result.regenerated.push(...(await reissueOutdated(store, ctx, base, name)));
        break;
      case 'remove-old-ca':
        if (state.transitional && state.transitionalIsNewer) {
          throw new SlipwayError(
            'Conflict',
            `${name}: the new CA version does not sign yet; removing the transitional version would drop the new CA`,
            {
              hint: 'Run the reissue-leaves phase first.',
            },
          );
        }
        if (state.transitional) {
          const outdated = await outdatedLeaves(store, ctx, base, name);
          if (outdated.length) {
            throw new SlipwayError(
              'Conflict',
              `${outdated.length} certificates are still signed by the old version of ${name}: ${outdated.slice(0, 5).join(', ')}${outdated.length > 5 ? ', ...' : ''}`,
              {
                hint: 'Run the reissue-leaves phase again and deploy before removing the old CA.',
              },
            );
          }
          await store.setTransitionalVersion(name, null, ctx);
        }
        break;
    }
    const after = await store.getCurrent(name, ctx);
    const active = after.find((v) => !v.transitional) ?? after[0];
    result.cas.push({ name, active: active.id, transitional: after.find((v) => v.transitional)?.id ?? null });
    result.bundles[ca] = pemBundle(after.map((v) => (v.value as CertificateValue).certificate));
  }
  return result;
}

/**
 * Reissues every leaf of the cluster's CAs, keeping the CAs: for a leaf compromise or expiry. Returns the
 * names reissued (users' kubeconfig certificates included; they fetch new ones with get-credentials).
 */
export async function rotateKubernetesLeaves(
  provider: CredentialProvider,
  ctx: CredentialContext,
  path: string,
  options: { cas?: readonly KubernetesCa[] } = {},
): Promise<string[]> {
  const store = rotating(provider);
  const base = path.replace(/\/+$/, '');
  const names: string[] = [];
  for (const ca of options.cas ?? KUBERNETES_CAS) {
    const caName = `${base}/${ca}`;
    if (store.bulkRegenerate) names.push(...(await store.bulkRegenerate({ signedBy: caName }, ctx)));
    else
      for (const leaf of await leavesOf(store, ctx, base, caName))
        names.push((await store.regenerate(leaf.name, ctx)).name);
  }
  return names;
}

/** The PEM bundle a peer must trust for `ca` now: its signing version, plus its transitional one in a rotation. */
export async function kubernetesTrustBundle(
  provider: CredentialProvider,
  ctx: CredentialContext,
  path: string,
  ca: KubernetesCa = 'kubernetes-ca',
): Promise<string> {
  const name = `${path.replace(/\/+$/, '')}/${ca}`;
  const versions = provider.getCurrent ? await provider.getCurrent(name, ctx) : [await provider.get(name, ctx)];
  return pemBundle(versions.map((v) => (v.value as CertificateValue).certificate));
}

interface RotationState {
  active: Credential;
  transitional?: Credential;
  /** The transitional version is the newer one: phase 1 has run, phase 2 has not. */
  transitionalIsNewer: boolean;
}

async function rotationState(store: RotatingProvider, ctx: CredentialContext, name: string): Promise<RotationState> {
  const current = await store.getCurrent(name, ctx);
  const active = current.find((v) => !v.transitional);
  const transitional = current.find((v) => v.transitional);
  if (!active) {
    throw new SlipwayError('Conflict', `${name} has only a transitional version`, {
      hint: `Choose its signing version: slipway credentials regenerate ${name}`,
    });
  }
  if (!transitional) return { active, transitionalIsNewer: false };
  // Newest first: the transitional one is newer when it comes before the active one.
  const versions = await store.getVersions(name, 100, ctx);
  const at = (id: string) => {
    const i = versions.findIndex((v) => v.id === id);
    return i < 0 ? Number.MAX_SAFE_INTEGER : i;
  };
  return { active, transitional, transitionalIsNewer: at(transitional.id) < at(active.id) };
}

/** Certificates under `base` whose current version `caName` signed. */
async function leavesOf(
  store: CredentialProvider,
  ctx: CredentialContext,
  base: string,
  caName: string,
): Promise<Credential<'certificate'>[]> {
  const found = await store.find({ path: base }, ctx);
  const leaves: Credential<'certificate'>[] = [];
  for (const { name } of found) {
    if (name === caName) continue;
    const credential = await store.get(name, ctx);
    if (credential.type === 'certificate' && (credential.value as CertificateValue).ca_name === caName)
      leaves.push(credential as Credential<'certificate'>);
  }
  return leaves;
}

async function outdatedLeaves(
  store: RotatingProvider,
  ctx: CredentialContext,
  base: string,
  caName: string,
): Promise<string[]> {
  const active = (await store.get(caName, ctx)).value as CertificateValue;
  return (await leavesOf(store, ctx, base, caName))
    .filter((leaf) => !isSignedBy(leaf.value.certificate, active.certificate))
    .map((leaf) => leaf.name);
}

async function reissueOutdated(
  store: RotatingProvider,
  ctx: CredentialContext,
  base: string,
  caName: string,
): Promise<string[]> {
  if (store.bulkRegenerate) return store.bulkRegenerate({ signedBy: caName, onlyOutdated: true }, ctx);
  const names = await outdatedLeaves(store, ctx, base, caName);
  for (const name of names) await store.regenerate(name, ctx);
  return names;
}
