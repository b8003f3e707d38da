import type { CallOptions } from './call.js';

/**
 * Optional parts of the registry contract (2.x), checked with `hasCapability` before the engine relies on one:
 * - `quota`: `ensureProject` honours `storageLimitBytes`;
 * - `vulnerability`: `metadata.preventVulnerable` / `severity` / `autoScan` are enforced;
 * - `cosign`: `metadata.contentTrustCosign` is enforced;
 * - `members`: `ensureProject` adds `members` with their roles;
 * - `robot.push`: a robot may be given `push-pull` access (a CI robot), not only `pull`;
 * - `leftovers`: `listProjects` reports the projects the driver made, by owner tag.
 */
export const REGISTRY_CAPABILITIES = [
  'quota',
  'vulnerability',
  'cosign',
  'members',
  'robot.push',
  'leftovers',
] as const;
export type RegistryCapability = (typeof REGISTRY_CAPABILITIES)[number];

/**
 * A registry driver gives a cluster (or a team) a project in an image registry and robot accounts to pull
 * and push with, as PKS did with Harbor. Every verb is idempotent by its caller-chosen names (project and
 * robot names derived from the cluster's uuid), honours `options.signal`, and fails with a `SlipwayError`
 * (`NotFound`, `Conflict`, `Forbidden`, `Retryable`, `RateLimited`, `QuotaExceeded`...); the engine retries.
 * (2.0 named `PermissionDenied` here, which the error table does not have: a registry refusing the driver's
 * own account is `Forbidden`, a wrong login `Unauthenticated`.)
 *
 * `options.requestId` is not an idempotency key for these verbs (the names are); a driver sends it to the
 * registry as a request id (Harbor's `X-Request-Id`) so a registry operator can find the engine's calls.
 *
 * Secrets: a robot's secret is returned only when it is made or refreshed; the engine stores it in the
 * credential store under the cluster's path at once. A robot that exists but whose secret the engine no
 * longer has is refreshed with `rotateRobotSecret`, never recreated under a new name.
 *
 * Contract 2.0 (registry kind): replaces 1.0's `ensureClusterProject`/`deleteClusterProject`.
 */
export interface RegistryDriver {
  /** Where clients pull from and the CA to trust; `healthy` from the registry's own health check. */
  info(options?: CallOptions): Promise<RegistryInfo>;
  /** Creates the project or brings an existing one to `input` (metadata, quota, members). */
  ensureProject(input: EnsureProjectInput, options?: CallOptions): Promise<RegistryProject>;
  /**
   * Creates a project-level robot with `access` on `project`; when it already exists, returns it without a
   * secret (`secret` undefined) and leaves its secret as it is.
   */
  ensureRobot(input: EnsureRobotInput, options?: CallOptions): Promise<RobotAccount>;
  /** Gives the robot a new secret (the old one stops working) and returns it. `NotFound` when it is gone. */
  rotateRobotSecret(
    input: { project: string; robot: string },
    options?: CallOptions,
  ): Promise<RobotAccount & { secret: string }>;
  /** Deletes a robot; succeeds when it is gone. */
  deleteRobot(input: { project: string; robot: string }, options?: CallOptions): Promise<void>;
  /**
   * Deletes the project when it holds no repositories (or always, with `force`). Returns whether it is gone;
   * a project kept because it holds images is `{ deleted: false, reason: 'not-empty' }`, not an error.
   */
  deleteProject(
    input: { project: string; force?: boolean },
    options?: CallOptions,
  ): Promise<{ deleted: boolean; reason?: 'not-empty' }>;
  /** `leftovers`: projects this driver made, with the owner tag they carry (a cluster uuid or a team). */
  listProjects?(options?: CallOptions): Promise<Array<{ project: string; owner?: string }>>;
  destroy(): Promise<void>;
}

export interface RegistryInfo {
  /** Registry host clients pull from, e.g. `harbor.example.test` or `127.0.0.1:5443`. */
  endpoint: string;
  /** PEM CA of the registry, when it is not publicly trusted. */
  caPem?: string;
  healthy: boolean;
}

export type VulnerabilitySeverity = 'none' | 'low' | 'medium' | 'high' | 'critical';

export interface ProjectMetadata {
  public?: boolean;
  /** `vulnerability`: refuse pulls of images with a vulnerability at or above `severity`. */
  preventVulnerable?: boolean;
  severity?: VulnerabilitySeverity;
  autoScan?: boolean;
  /** `cosign`: only signed images may be pulled. */
  contentTrustCosign?: boolean;
}

export type ProjectRole = 'projectAdmin' | 'maintainer' | 'developer' | 'guest' | 'limitedGuest';

export interface EnsureProjectInput {
  project: string;
  /**
   * Who the project is for (a cluster uuid, or a team name), recorded where the registry can hold it. Harbor
   * cannot (its project metadata takes only its own keys), so `listProjects` there reports no owner and the
   * engine keeps the project-to-cluster mapping itself.
   */
  owner: string;
  metadata?: ProjectMetadata;
  /** `quota`: bytes; -1 or absent means unlimited. */
  storageLimitBytes?: number;
  /** `members`: users given a role on the project (the cluster's owner as maintainer). */
  members?: Array<{ username: string; role: ProjectRole }>;
}

export interface RegistryProject {
  project: string;
  /** The registry's own id for it, where it has one. */
  id?: string;
  metadata: ProjectMetadata;
  storageLimitBytes?: number;
}

export type RobotAccess = 'pull' | 'push-pull';

export interface EnsureRobotInput {
  project: string;
  /** Short name; the registry may prefix it (Harbor: `robot$<project>+<name>`). */
  robot: string;
  access: RobotAccess;
  /** Days until the robot expires; -1 or absent: never. */
  durationDays?: number;
  description?: string;
}

export interface RobotAccount {
  /** The name clients log in with (Harbor's full `robot$project+name`). */
  name: string;
  id?: string;
  access: RobotAccess;
  /** Present only when the robot was just made or its secret refreshed. */
  secret?: string;
  expiresAt?: string;
}
