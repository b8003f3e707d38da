import type { ProjectMetadata, ProjectRole, RobotAccess, VulnerabilitySeverity } from '@slipway/contracts';
import type { HarborMetadata, HarborRobot, HarborRobotAccess } from './harbor-types.js';

/** Harbor's member roles by id (swagger `role_id`). */
export const ROLE_IDS: Readonly<Record<ProjectRole, number>> = Object.freeze({
  projectAdmin: 1,
  developer: 2,
  guest: 3,
  maintainer: 4,
  limitedGuest: 5,
});

const SEVERITIES: readonly VulnerabilitySeverity[] = ['none', 'low', 'medium', 'high', 'critical'];

/** Contract metadata to Harbor's "true"/"false" strings; only the fields given, so a converge touches nothing else. */
export function toHarborMetadata(metadata: ProjectMetadata = {}): HarborMetadata {
  const out: HarborMetadata = {};
  const flag = (value: boolean | undefined) => (value === undefined ? undefined : String(value));
  const set = (key: keyof HarborMetadata, value: string | undefined) => {
    if (value !== undefined) out[key] = value;
  };
  set('public', flag(metadata.public));
  set('prevent_vul', flag(metadata.preventVulnerable));
  set('severity', metadata.severity);
  set('auto_scan', flag(metadata.autoScan));
  set('enable_content_trust_cosign', flag(metadata.contentTrustCosign));
  return out;
}

export function fromHarborMetadata(metadata: HarborMetadata = {}): ProjectMetadata {
  const out: ProjectMetadata = {};
  const flag = (value: string | undefined) => (value === undefined ? undefined : value === 'true');
  const assign = <K extends keyof ProjectMetadata>(key: K, value: ProjectMetadata[K] | undefined) => {
    if (value !== undefined) out[key] = value;
  };
  assign('public', flag(metadata.public));
  assign('preventVulnerable', flag(metadata.prevent_vul));
  assign(
    'severity',
    SEVERITIES.includes(metadata.severity as VulnerabilitySeverity)
      ? (metadata.severity as VulnerabilitySeverity)
      : undefined,
  );
  assign('autoScan', flag(metadata.auto_scan));
  assign('contentTrustCosign', flag(metadata.enable_content_trust_cosign));
  return out;
}

/** A project-level robot's permission on its one project: pull, or push and pull. */
export function robotPermissions(project: string, access: RobotAccess): NonNullable<HarborRobot['permissions']> {
  const actions: HarborRobotAccess[] = [{ resource: 'repository', action: 'pull' }];
  switch (access) {
    case 'pull':
      break;
    case 'push-pull':
      actions.push({ resource: 'repository', action: 'push' });
      break;
    default:
      return assertNever(access);
  }
  return [{ kind: 'project', namespace: project, access: actions }];
}

/** What a robot may do on `project`, read back from its permissions. */
export function robotAccessOf(robot: HarborRobot, project: string): RobotAccess {
  const actions = new Set(
    (robot.permissions ?? [])
      .filter((p) => p.kind === 'project' && p.namespace === project)
      .flatMap((p) => p.access.filter((a) => a.resource === 'repository' && a.effect !== 'deny').map((a) => a.action)),
  );
  return actions.has('push') ? 'push-pull' : 'pull';
}

/** Harbor names a project robot `robot$<project>+<name>` (the `robot$` prefix is configurable in Harbor). */
export function isRobotNamed(robot: HarborRobot, project: string, name: string): boolean {
  return robot.name.endsWith(`${project}+${name}`) && robot.name.length > `${project}+${name}`.length;
}

export function isoFromEpoch(seconds: number | undefined): string | undefined {
  return seconds === undefined || seconds <= 0 ? undefined : new Date(seconds * 1000).toISOString();
}

function assertNever(value: never): never {
  throw new Error(`unexpected robot access ${String(value)}`);
}
