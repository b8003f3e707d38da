import type { PlanRegistryConfig } from '../config/schema.js';
import { clusterCredentialPath } from '../cluster-pki.js';

/** Lowercase letters and digits joined by single dashes: what Harbor (and most registries) accept in a name. */
function slug(text: string, max: number): string {
  return (
    text
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, max)
      .replace(/-+$/, '') || 'x'
  );
}

/**
 * The cluster's project: `slipway-NAME-UUID8` per cluster (unique, and the same on every retry), or
 * `slipway-team-OWNER` shared by an owner's clusters.
 */
export function registryProjectName(
  cluster: { uuid: string; name: string; owner: string },
  mode: PlanRegistryConfig['project'],
): string {
  const which = mode ?? 'per-cluster';
  switch (which) {
    case 'per-cluster':
      return `slipway-${slug(cluster.name, 40)}-${cluster.uuid.slice(0, 8)}`;
    case 'per-owner':
      return `slipway-team-${slug(cluster.owner, 40)}`;
    default: {
      const never: never = which;
      throw new Error(`unknown registry project mode ${String(never)}`);
    }
  }
}

/** Robot names carry the cluster's uuid, so clusters sharing a team project have their own robots. */
export function robotNames(clusterUuid: string): { pull: string; push: string } {
  const id = clusterUuid.slice(0, 8);
  return { pull: `nodes-${id}`, push: `ci-${id}` };
}

/**
 * Where robot secrets live. The pull robot is for the engine and the nodes only; the push robot is for CI,
 * so the cluster's owner may read it (granted on exactly that name).
 */
export function robotCredentialNames(clusterUuid: string): { pull: string; push: string } {
  const base = `${clusterCredentialPath(clusterUuid)}/registry`;
  return { pull: `${base}/pull-robot`, push: `${base}/push-robot` };
}
