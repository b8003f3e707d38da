import { randomBytes, timingSafeEqual } from 'node:crypto';
import { HarborHttpError } from './http.js';

export interface FakeProject {
  id: number;
  name: string;
  metadata: Record<string, string>;
  createdAt: string;
  storageLimit: number;
  quotaId: number;
}

export interface FakeRobotPermission {
  kind: string;
  namespace: string;
  access: Array<{ resource: string; action: string; effect?: string }>;
}

export interface FakeRobot {
  id: number;
  /** Full name, `robot$<project>+<name>` for a project robot. */
  name: string;
  level: 'system' | 'project';
  projectId: number;
  description: string;
  disable: boolean;
  duration: number;
  expiresAt: number;
  createdAt: string;
  permissions: FakeRobotPermission[];
  secret: string;
}

export interface FakeMember {
  id: number;
  projectId: number;
  username: string;
  roleId: number;
}

/** Metadata keys Harbor accepts, with the values it accepts. */
const METADATA: Record<string, (value: string) => boolean> = {
  public: isBool,
  enable_content_trust: isBool,
  enable_content_trust_cosign: isBool,
  prevent_vul: isBool,
  auto_scan: isBool,
  auto_sbom_generation: isBool,
  reuse_sys_cve_allowlist: isBool,
  severity: (v) => ['none', 'low', 'medium', 'high', 'critical'].includes(v),
};

export const ROBOT_PREFIX = 'robot$';
const NAME = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;

/** What the fake Harbor holds: projects, their metadata and quota, members, robots; images live in the real registry. */
export class HarborState {
  readonly projects = new Map<number, FakeProject>();
  readonly robots = new Map<number, FakeRobot>();
  readonly members = new Map<number, FakeMember>();
  private nextId = 1;
  /**
   * Who may become a member: `any` as with LDAP or OIDC auth (Harbor onboards the user on first use), or only
   * `users` as with Harbor's database auth, where an unknown username is a 404.
   */
  userMode: 'any' | 'known' = 'any';
  readonly users = new Set<string>();

  constructor(readonly admin: { username: string; password: string }) {
    this.users.add(admin.username);
  }

  project(nameOrId: string, byName = false): FakeProject {
    const found =
      !byName && /^\d+$/.test(nameOrId)
        ? this.projects.get(Number(nameOrId))
        : [...this.projects.values()].find((p) => p.name === nameOrId);
    if (!found) throw new HarborHttpError(404, `project ${nameOrId} not found`);
    return found;
  }

  createProject(body: Record<string, unknown>): FakeProject {
    const name = body.project_name;
    if (typeof name !== 'string' || !NAME.test(name) || name.length > 255) {
      throw new HarborHttpError(400, `project_name: must match ${NAME.source} and be at most 255 characters`);
    }
    if ([...this.projects.values()].some((p) => p.name === name))
      throw new HarborHttpError(409, `The project named ${name} already exists`);
    const metadata = this.checkMetadata(body.metadata ?? {});
    const limit = body.storage_limit === undefined ? -1 : body.storage_limit;
    if (typeof limit !== 'number' || !Number.isInteger(limit) || (limit < 0 && limit !== -1)) {
      throw new HarborHttpError(400, 'storage_limit: must be -1 or a non-negative integer of bytes');
    }
    const project: FakeProject = {
      id: this.nextId++,
      name,
      metadata: { public: 'false', ...metadata },
      createdAt: new Date().toISOString(),
      storageLimit: limit,
      quotaId: this.nextId++,
    };
    this.projects.set(project.id, project);
    return project;
  }

  deleteProject(project: FakeProject): void {
    this.projects.delete(project.id);
    // Harbor removes a project's robots and members with it.
    for (const robot of [...this.robots.values()]) if (robot.projectId === project.id) this.robots.delete(robot.id);
    for (const member of [...this.members.values()])
      if (member.projectId === project.id) this.members.delete(member.id);
  }

  checkMetadata(value: unknown): Record<string, string> {
    if (!value || typeof value !== 'object' || Array.isArray(value))
      throw new HarborHttpError(400, 'metadata: must be an object of strings');
    const out: Record<string, string> = {};
    for (const [key, raw] of Object.entries(value as Record<string, unknown>)) {
      const valid = METADATA[key];
      if (!valid) throw new HarborHttpError(400, `metadata: unknown key ${key}`);
      if (typeof raw !== 'string' || !valid(raw))
        throw new HarborHttpError(400, `metadata.${key}: invalid value ${JSON.stringify(raw)}`);
      out[key] = raw;
    }
    return out;
  }

  addMember(project: FakeProject, body: Record<string, unknown>): FakeMember {
    const roleId = body.role_id;
    const user = body.member_user as { username?: unknown } | undefined;
    if (typeof roleId !== 'number' || roleId < 1 || roleId > 5) throw new HarborHttpError(400, 'role_id: must be 1..5');
    if (typeof user?.username !== 'string' || !user.username)
      throw new HarborHttpError(400, 'member_user.username: required');
    if (this.userMode === 'known' && !this.users.has(user.username))
      throw new HarborHttpError(404, `user ${user.username} not found`);
    if ([...this.members.values()].some((m) => m.projectId === project.id && m.username === user.username)) {
      throw new HarborHttpError(409, `The user ${user.username} is already a member of the project`);
    }
    const member: FakeMember = { id: this.nextId++, projectId: project.id, username: user.username, roleId };
    this.members.set(member.id, member);
    return member;
  }

  member(project: FakeProject, id: string): FakeMember {
    const member = this.members.get(Number(id));
    if (!member || member.projectId !== project.id)
      throw new HarborHttpError(404, `member ${id} not found in project ${project.name}`);
    return member;
  }

  createRobot(body: Record<string, unknown>): FakeRobot {
    const name = body.name;
    if (typeof name !== 'string' || !NAME.test(name)) throw new HarborHttpError(400, `name: must match ${NAME.source}`);
    if (body.level !== 'project')
      throw new HarborHttpError(403, 'only project-level robots are supported by this fake');
    const permissions = this.checkPermissions(body.permissions);
    const project = this.project(permissions[0]!.namespace, true);
    const full = `${ROBOT_PREFIX}${project.name}+${name}`;
    if ([...this.robots.values()].some((r) => r.name === full))
      throw new HarborHttpError(409, `robot account ${full} already exists`);
    const duration = typeof body.duration === 'number' ? body.duration : -1;
    const now = Math.floor(Date.now() / 1000);
    const robot: FakeRobot = {
      id: this.nextId++,
      name: full,
      level: 'project',
      projectId: project.id,
      description: typeof body.description === 'string' ? body.description : '',
      disable: body.disable === true,
      duration,
      expiresAt: duration === -1 ? -1 : now + duration * 86400,
      createdAt: new Date().toISOString(),
      permissions,
      secret: newSecret(),
    };
    this.robots.set(robot.id, robot);
    return robot;
  }

  robot(id: string): FakeRobot {
    const robot = this.robots.get(Number(id));
    if (!robot) throw new HarborHttpError(404, `robot ${id} not found`);
    return robot;
  }

  updateRobot(robot: FakeRobot, body: Record<string, unknown>): void {
    if (typeof body.name === 'string' && body.name !== robot.name)
      throw new HarborHttpError(400, 'the name of a robot cannot be changed');
    robot.permissions = this.checkPermissions(body.permissions ?? robot.permissions);
    if (typeof body.disable === 'boolean') robot.disable = body.disable;
    if (typeof body.description === 'string') robot.description = body.description;
  }

  refreshSecret(robot: FakeRobot, body: Record<string, unknown>): string {
    const given = body.secret;
    if (given !== undefined && (typeof given !== 'string' || !/^(?=.*[a-z])(?=.*[A-Z])(?=.*\d).{8,128}$/.test(given))) {
      throw new HarborHttpError(
        400,
        'secret: 8-128 characters with an uppercase letter, a lowercase letter and a digit',
      );
    }
    robot.secret = typeof given === 'string' ? given : newSecret();
    return robot.secret;
  }

  /** Who a Basic header names: the admin, an enabled unexpired robot with the right secret, or nobody. */
  authenticate(
    header: string | undefined,
  ): { kind: 'admin'; name: string } | { kind: 'robot'; robot: FakeRobot } | undefined {
    if (!header?.startsWith('Basic ')) return undefined;
    const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return undefined;
    const user = decoded.slice(0, colon);
    const password = decoded.slice(colon + 1);
    if (user === this.admin.username)
      return same(password, this.admin.password) ? { kind: 'admin', name: user } : undefined;
    const robot = [...this.robots.values()].find((r) => r.name === user);
    if (!robot || robot.disable || !same(password, robot.secret)) return undefined;
    if (robot.expiresAt !== -1 && robot.expiresAt * 1000 < Date.now()) return undefined;
    return { kind: 'robot', robot };
  }

  /** The repository actions a robot has on `project`, from its permissions. */
  robotActions(robot: FakeRobot, project: string): Set<string> {
    return new Set(
      robot.permissions
        .filter((p) => p.kind === 'project' && p.namespace === project)
        .flatMap((p) =>
          p.access.filter((a) => a.resource === 'repository' && a.effect !== 'deny').map((a) => a.action),
        ),
    );
  }

  private checkPermissions(value: unknown): FakeRobotPermission[] {
    if (!Array.isArray(value) || value.length !== 1)
      throw new HarborHttpError(400, 'permissions: a project-level robot has exactly one permission entry');
    const entry = value[0] as Partial<FakeRobotPermission>;
    if (entry.kind !== 'project' || typeof entry.namespace !== 'string' || !Array.isArray(entry.access)) {
      throw new HarborHttpError(400, 'permissions[0]: needs kind "project", a namespace and access');
    }
    for (const a of entry.access) {
      if (typeof a?.resource !== 'string' || typeof a.action !== 'string')
        throw new HarborHttpError(400, 'permissions[0].access: each needs resource and action');
    }
    this.project(entry.namespace, true);
    const access = entry.access.map((a) => ({
      resource: a.resource,
      action: a.action,
      ...(a.effect ? { effect: a.effect } : {}),
    }));
    return [{ kind: 'project', namespace: entry.namespace, access }];
  }
}

function isBool(value: string): boolean {
  return value === 'true' || value === 'false';
}

function newSecret(): string {
  // Harbor's generated secrets: 32 characters with upper, lower and digits.
  const raw = randomBytes(24).toString('base64url').replace(/[-_]/g, 'x');
  return `A1${raw.slice(0, 30)}`;
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
