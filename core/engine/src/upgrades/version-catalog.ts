import { inject, injectable } from 'tsyringe';
import semver from 'semver';
import { SlipwayError } from '@slipway/contracts';
import type { PlanConfig, SlipwayConfig } from '../config/schema.js';
import { CONFIG } from '../tokens.js';

export const DEFAULT_KUBERNETES_VERSIONS = ['1.29.6', '1.30.8', '1.31.4'] as const;

export interface Stemcell {
  name: string;
  version: string;
}

export function stemcellLabel(s: Stemcell): string {
  return `${s.name}/${s.version}`;
}

/** `ubuntu-jammy/1.600` → its name and version; the clusters table keeps stemcells in that form. */
export function parseStemcell(label: string): Stemcell {
  const slash = label.lastIndexOf('/');
  if (slash <= 0)
    throw new SlipwayError('InvalidInput', `"${label}" is not a stemcell: expected NAME/VERSION (ubuntu-jammy/1.600)`, {
      field: 'stemcell',
    });
  return { name: label.slice(0, slash), version: label.slice(slash + 1) };
}

/** Stemcell versions are dotted numbers (`1.600`, `621.74`): compared part by part, numerically. */
export function compareStemcellVersions(a: string, b: string): number {
  const pa = a.split('.');
  const pb = b.split('.');
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? '0';
    const y = pb[i] ?? '0';
    const nx = Number(x);
    const ny = Number(y);
    const d = Number.isFinite(nx) && Number.isFinite(ny) ? nx - ny : x.localeCompare(y);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}

const minorOf = (v: string) => `${semver.major(v)}.${semver.minor(v)}`;

/**
 * The Kubernetes versions and stemcells clusters may run, from slipway.yaml, and the upgrade rules:
 * no downgrade, no skipped minor version (Kubernetes' version skew policy), only what the catalog has.
 * Masters before workers is the rolling update's order. Each plan's default is its kubernetes_version.
 */
@injectable()
export class VersionCatalog {
  readonly versions: readonly string[];
  readonly stemcells: readonly Stemcell[];
  readonly defaultStemcell: Stemcell;
  readonly defaultVersion: string;

  constructor(@inject(CONFIG) config: SlipwayConfig) {
    const listed = config.kubernetes.versions ?? [...DEFAULT_KUBERNETES_VERSIONS];
    const all = new Set([
      ...listed,
      config.kubernetes.default_version,
      ...config.plans.flatMap((p) => (p.kubernetes_version ? [p.kubernetes_version] : [])),
    ]);
    this.versions = [...all].filter((v) => semver.valid(v)).sort(semver.compare);
    this.defaultVersion = config.kubernetes.default_version;
    this.defaultStemcell = { ...config.kubernetes.stemcell };
    const stemcells = new Map<string, Stemcell>();
    for (const s of [...(config.kubernetes.stemcells ?? []), config.kubernetes.stemcell])
      stemcells.set(stemcellLabel(s), { name: s.name, version: s.version });
    this.stemcells = [...stemcells.values()].sort(
      (a, b) => a.name.localeCompare(b.name) || compareStemcellVersions(a.version, b.version),
    );
  }

  /** What a plan's clusters are created at and upgraded to by default. */
  planVersion(plan: PlanConfig): string {
    return plan.kubernetes_version ?? this.defaultVersion;
  }

  has(version: string): boolean {
    return this.versions.includes(version);
  }

  hasStemcell(s: Stemcell): boolean {
    return this.stemcells.some((c) => c.name === s.name && c.version === s.version);
  }

  /** Versions a cluster at `from` may upgrade to directly: newer, within the next minor. */
  upgradesFrom(from: string): string[] {
    return this.versions.filter((v) => semver.gt(v, from) && this.withinOneMinor(from, v));
  }

  /** Newer stemcells of the same name, and every stemcell of another name (an OS change). */
  stemcellUpgradesFrom(from: Stemcell): Stemcell[] {
    return this.stemcells.filter((s) => s.name !== from.name || compareStemcellVersions(s.version, from.version) > 0);
  }

  /**
   * Refuses an upgrade the rules forbid, saying which path is allowed:
   * `1.29.6 → 1.31.4 skips 1.30; upgrade to 1.30.x first (available: 1.30.8)`.
   */
  checkUpgrade(from: string, to: string): void {
    if (!this.has(to)) {
      throw new SlipwayError(
        'InvalidInput',
        `Kubernetes ${to} is not in the version catalog; available: ${this.versions.join(', ')}`,
        {
          field: 'kubernetes_version',
          hint: 'Pick a listed version (slipway versions), or add it to kubernetes.versions in slipway.yaml.',
        },
      );
    }
    if (semver.lt(to, from)) {
      throw new SlipwayError(
        'InvalidInput',
        `${from} → ${to} is a downgrade; a cluster's Kubernetes version only goes up${this.upgradesFrom(from).length ? ` (available: ${this.upgradesFrom(from).join(', ')})` : ''}`,
        {
          field: 'kubernetes_version',
          hint: 'Pick a newer version, or create a new cluster at the older one.',
        },
      );
    }
    if (!this.withinOneMinor(from, to)) {
      const next = this.nextMinor(from);
      const available = this.versions.filter((v) => minorOf(v) === next);
      throw new SlipwayError(
        'InvalidInput',
        `${from} → ${to} skips ${this.skipped(from, to).join(', ')}; upgrade to ${next}.x first (available: ${available.length ? available.join(', ') : `none; add a ${next} version to kubernetes.versions`})`,
        {
          field: 'kubernetes_version',
          hint: 'Kubernetes supports upgrades one minor version at a time; upgrade in steps.',
          details: { allowed: this.upgradesFrom(from) },
        },
      );
    }
  }

  checkStemcell(from: Stemcell, to: Stemcell): void {
    if (!this.hasStemcell(to)) {
      throw new SlipwayError(
        'InvalidInput',
        `stemcell ${stemcellLabel(to)} is not published; available: ${this.stemcells.map(stemcellLabel).join(', ')}`,
        {
          field: 'stemcell',
          hint: 'Publish it in kubernetes.stemcells (or kubernetes.stemcell) in slipway.yaml.',
        },
      );
    }
    if (to.name === from.name && compareStemcellVersions(to.version, from.version) < 0) {
      throw new SlipwayError(
        'InvalidInput',
        `stemcell ${stemcellLabel(from)} → ${to.version} is a downgrade; stemcells only go up (a downgrade would bring back what the newer one fixed)`,
        { field: 'stemcell' },
      );
    }
  }

  /**
   * The furthest version toward `wanted` a cluster at `from` may go in one upgrade: `wanted` itself when it is
   * within a minor, else the newest patch of the next minor (a fleet upgrade walks clusters one minor a run).
   */
  stepToward(from: string, wanted: string): string {
    if (!semver.gt(wanted, from)) return from;
    if (this.withinOneMinor(from, wanted)) return wanted;
    const next = this.versions.filter((v) => minorOf(v) === this.nextMinor(from));
    return next.at(-1) ?? from;
  }

  private withinOneMinor(from: string, to: string): boolean {
    if (semver.major(to) !== semver.major(from)) return false;
    return semver.minor(to) - semver.minor(from) <= 1;
  }

  private nextMinor(from: string): string {
    return `${semver.major(from)}.${semver.minor(from) + 1}`;
  }

  private skipped(from: string, to: string): string[] {
    if (semver.major(to) !== semver.major(from)) return [`from ${minorOf(from)} to ${minorOf(to)}`];
    const out: string[] = [];
    for (let m = semver.minor(from) + 1; m < semver.minor(to); m++) out.push(`${semver.major(from)}.${m}`);
    return out;
  }
}
