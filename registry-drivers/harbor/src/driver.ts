import {
  SlipwayError,
  type CallOptions,
  type EnsureProjectInput,
  type EnsureRobotInput,
  type RegistryDriver,
  type RegistryInfo,
  type RegistryProject,
  type RobotAccount,
} from '@slipway/contracts';
import type { HarborClient } from './client.js';
import type {
  HarborMember,
  HarborMetadata,
  HarborProject,
  HarborProjectSummary,
  HarborQuota,
  HarborRobot,
  HarborRobotCreated,
} from './harbor-types.js';
import { PLUGIN } from './errors.js';
import {
  fromHarborMetadata,
  isoFromEpoch,
  isRobotNamed,
  robotAccessOf,
  robotPermissions,
  ROLE_IDS,
  toHarborMetadata,
} from './mapping.js';

const PAGE_SIZE = 100;

/**
 * The registry contract on Harbor v2.0. Every verb reads what exists first and changes only what differs,
 * so a repeat (the engine's retry after a lost answer) changes nothing; a 409 on create means an earlier
 * attempt got there and is read back, never an error.
 */
export class HarborRegistryDriver implements RegistryDriver {
  constructor(
    private readonly client: HarborClient,
    private readonly settings: { endpoint: string; projectPrefix: string },
  ) {}

  async info(options: CallOptions = {}): Promise<RegistryInfo> {
    const health = await this.client.send({
      operation: 'getHealth',
      method: 'GET',
      path: 'health',
      ...call(options),
      accept: [503],
    });
    const healthy = health.status === 200 && health.json<{ status?: string }>().status === 'healthy';
    // 404: Harbor serves a publicly trusted certificate (or plain HTTP) and has no CA to hand out.
    const cert = await this.client.send({
      operation: 'getCert',
      method: 'GET',
      path: 'systeminfo/getcert',
      ...call(options),
      accept: [404],
    });
    const caPem = cert.status === 200 && cert.text.includes('-----BEGIN CERTIFICATE-----') ? cert.text : undefined;
    return { endpoint: this.settings.endpoint, healthy, ...(caPem ? { caPem } : {}) };
  }

  async ensureProject(input: EnsureProjectInput, options: CallOptions = {}): Promise<RegistryProject> {
    checkName('project', input.project);
    const wanted = toHarborMetadata(input.metadata);
    if (!(await this.projectExists(input.project, options))) {
      const created = await this.client.send({
        operation: 'createProject',
        method: 'POST',
        path: 'projects',
        ...call(options),
        accept: [409],
        body: {
          project_name: input.project,
          metadata: { public: 'false', ...wanted },
          ...(input.storageLimitBytes !== undefined ? { storage_limit: input.storageLimitBytes } : {}),
        },
      });
      // 409: an earlier attempt whose answer was lost made it; the converge below checks it is as wanted.
      if (created.status === 201) return this.finishProject(input, options);
    }
    await this.convergeMetadata(input.project, wanted, options);
    if (input.storageLimitBytes !== undefined)
      await this.convergeQuota(input.project, input.storageLimitBytes, options);
    return this.finishProject(input, options);
  }

  async ensureRobot(input: EnsureRobotInput, options: CallOptions = {}): Promise<RobotAccount> {
    checkName('robot', input.robot);
    const project = await this.getProject(input.project, options);
    const existing = await this.findRobot(project, input.robot, options);
    const permissions = robotPermissions(input.project, input.access);
    if (existing) {
      if (robotAccessOf(existing, input.project) !== input.access) {
        await this.client.send({
          operation: 'updateRobot',
          method: 'PUT',
          path: `robots/${existing.id}`,
          ...call(options),
          body: { ...existing, permissions },
        });
      }
      return {
        name: existing.name,
        id: String(existing.id),
        access: input.access,
        expiresAt: isoFromEpoch(existing.expires_at),
      };
    }
    const answer = await this.client.send({
      operation: 'createRobot',
      method: 'POST',
      path: 'robots',
      ...call(options),
      accept: [409],
      body: {
        name: input.robot,
        level: 'project',
        disable: false,
        duration: input.durationDays ?? -1,
        description: input.description ?? `slipway ${input.access} robot for ${input.project}`,
        permissions,
      },
    });
    if (answer.status === 409) {
      const raced = await this.findRobot(project, input.robot, options);
      if (!raced) {
        const message = `harbor createRobot: robot ${input.robot} of ${input.project} exists but cannot be listed`;
        throw new SlipwayError('Conflict', message, { plugin: PLUGIN, retryable: true });
      }
      return {
        name: raced.name,
        id: String(raced.id),
        access: robotAccessOf(raced, input.project),
        expiresAt: isoFromEpoch(raced.expires_at),
      };
    }
    const made = answer.json<HarborRobotCreated>();
    return {
      name: made.name,
      id: String(made.id),
      access: input.access,
      secret: made.secret,
      expiresAt: isoFromEpoch(made.expires_at),
    };
  }

  async rotateRobotSecret(
    input: { project: string; robot: string },
    options: CallOptions = {},
  ): Promise<RobotAccount & { secret: string }> {
    const project = await this.getProject(input.project, options);
    const robot = await this.findRobot(project, input.robot, options);
    if (!robot)
      throw new SlipwayError('NotFound', `robot ${input.robot} of project ${input.project} does not exist in Harbor`, {
        plugin: PLUGIN,
      });
    // An empty body: Harbor generates the new secret, so none crosses the wire twice.
    const answer = await this.client.send({
      operation: 'refreshSec',
      method: 'PATCH',
      path: `robots/${robot.id}`,
      body: {},
      ...call(options),
    });
    const { secret } = answer.json<{ secret?: string }>();
    if (!secret)
      throw new SlipwayError('CloudError', `harbor refreshSec: robot ${robot.name}: the answer has no secret`, {
        plugin: PLUGIN,
      });
    return {
      name: robot.name,
      id: String(robot.id),
      access: robotAccessOf(robot, input.project),
      secret,
      expiresAt: isoFromEpoch(robot.expires_at),
    };
  }

  async deleteRobot(input: { project: string; robot: string }, options: CallOptions = {}): Promise<void> {
    const project = await this.findProject(input.project, options);
    if (!project) return;
    const robot = await this.findRobot(project, input.robot, options);
    if (!robot) return;
    await this.client.send({
      operation: 'deleteRobot',
      method: 'DELETE',
      path: `robots/${robot.id}`,
      ...call(options),
      accept: [404],
    });
  }

  async deleteProject(
    input: { project: string; force?: boolean },
    options: CallOptions = {},
  ): Promise<{ deleted: boolean; reason?: 'not-empty' }> {
    const project = await this.findProject(input.project, options);
    if (!project) return { deleted: true };
    const name = encodeURIComponent(input.project);
    const deletable = await this.client.send({
      operation: 'getProjectDeletable',
      method: 'GET',
      path: `projects/${name}/_deletable`,
      ...call(options),
    });
    if (!deletable.json<{ deletable?: boolean }>().deletable) {
      if (!input.force) return { deleted: false, reason: 'not-empty' };
      for (const repo of await this.repositories(input.project, options)) {
        // Harbor wants a repository name with a slash encoded twice in the path.
        const path = `projects/${name}/repositories/${encodeURIComponent(encodeURIComponent(repo))}`;
        await this.client.send({
          operation: 'deleteRepository',
          method: 'DELETE',
          path,
          ...call(options),
          accept: [404],
        });
      }
    }
    for (const robot of await this.projectRobots(project, options)) {
      await this.client.send({
        operation: 'deleteRobot',
        method: 'DELETE',
        path: `robots/${robot.id}`,
        ...call(options),
        accept: [404],
      });
    }
    const gone = await this.client.send({
      operation: 'deleteProject',
      method: 'DELETE',
      path: `projects/${name}`,
      ...call(options),
      accept: [404, 412],
    });
    if (gone.status === 412) return { deleted: false, reason: 'not-empty' };
    return { deleted: true };
  }

  async listProjects(options: CallOptions = {}): Promise<Array<{ project: string; owner?: string }>> {
    const out: Array<{ project: string }> = [];
    for (let page = 1; ; page++) {
      const answer = await this.client.send({
        operation: 'listProjects',
        method: 'GET',
        ...call(options),
        path: `projects?name=${encodeURIComponent(this.settings.projectPrefix)}&page=${page}&page_size=${PAGE_SIZE}`,
      });
      const projects = answer.json<HarborProject[]>();
      out.push(
        ...projects.filter((p) => p.name.startsWith(this.settings.projectPrefix)).map((p) => ({ project: p.name })),
      );
      if (projects.length < PAGE_SIZE) return out;
    }
  }

  async destroy(): Promise<void> {
    this.client.destroy();
  }

  private async projectExists(project: string, options: CallOptions): Promise<boolean> {
    const answer = await this.client.send({
      operation: 'headProject',
      method: 'HEAD',
      path: `projects?project_name=${encodeURIComponent(project)}`,
      ...call(options),
      accept: [404],
    });
    return answer.status === 200;
  }

  private async findProject(project: string, options: CallOptions): Promise<HarborProject | undefined> {
    const path = `projects/${encodeURIComponent(project)}`;
    const answer = await this.client.send({
      operation: 'getProject',
      method: 'GET',
      path,
      ...call(options),
      accept: [404, 403],
    });
    // Harbor answers 403 for a project that does not exist to a non-admin, so as not to reveal it.
    return answer.status === 200 ? answer.json<HarborProject>() : undefined;
  }

  private async getProject(project: string, options: CallOptions): Promise<HarborProject> {
    const found = await this.findProject(project, options);
    if (!found)
      throw new SlipwayError('NotFound', `project ${project} does not exist in Harbor; ensure it first`, {
        plugin: PLUGIN,
      });
    return found;
  }

  private async convergeMetadata(project: string, wanted: HarborMetadata, options: CallOptions): Promise<void> {
    const path = `projects/${encodeURIComponent(project)}/metadatas`;
    const current = (
      await this.client.send({ operation: 'listProjectMetadatas', method: 'GET', path, ...call(options) })
    ).json<HarborMetadata>();
    for (const [key, value] of Object.entries(wanted)) {
      if (current[key as keyof HarborMetadata] === value) continue;
      const exists = key in current;
      await this.client.send(
        exists
          ? {
              operation: 'updateProjectMetadata',
              method: 'PUT',
              path: `${path}/${key}`,
              body: { [key]: value },
              ...call(options),
            }
          : { operation: 'addProjectMetadatas', method: 'POST', path, body: { [key]: value }, ...call(options) },
      );
    }
  }

  private async convergeQuota(project: string, bytes: number, options: CallOptions): Promise<void> {
    const { project_id: id } = await this.getProject(project, options);
    const quotas = (
      await this.client.send({
        operation: 'listQuotas',
        method: 'GET',
        path: `quotas?reference=project&reference_id=${id}`,
        ...call(options),
      })
    ).json<HarborQuota[]>();
    const quota = quotas[0];
    if (!quota || quota.hard.storage === bytes) return;
    await this.client.send({
      operation: 'updateQuota',
      method: 'PUT',
      path: `quotas/${quota.id}`,
      body: { hard: { storage: bytes } },
      ...call(options),
    });
  }

  private async convergeMembers(
    project: string,
    members: NonNullable<EnsureProjectInput['members']>,
    options: CallOptions,
  ): Promise<void> {
    if (members.length === 0) return;
    const path = `projects/${encodeURIComponent(project)}/members`;
    const current = (
      await this.client.send({ operation: 'listProjectMembers', method: 'GET', path, ...call(options) })
    ).json<HarborMember[]>();
    for (const member of members) {
      const roleId = ROLE_IDS[member.role];
      const found = current.find((m) => m.entity_type === 'u' && m.entity_name === member.username);
      if (found?.role_id === roleId) continue;
      await this.client.send(
        found
          ? {
              operation: 'updateProjectMember',
              method: 'PUT',
              path: `${path}/${found.id}`,
              body: { role_id: roleId },
              ...call(options),
            }
          : {
              operation: 'createProjectMember',
              method: 'POST',
              path,
              ...call(options),
              accept: [409],
              body: { role_id: roleId, member_user: { username: member.username } },
            },
      );
    }
  }

  /** Members, then what Harbor now holds: its metadata and quota as read back. */
  private async finishProject(input: EnsureProjectInput, options: CallOptions): Promise<RegistryProject> {
    await this.convergeMembers(input.project, input.members ?? [], options);
    const project = await this.getProject(input.project, options);
    const summary = (
      await this.client.send({
        operation: 'getProjectSummary',
        method: 'GET',
        path: `projects/${encodeURIComponent(input.project)}/summary`,
        ...call(options),
      })
    ).json<HarborProjectSummary>();
    const storage = summary.quota?.hard?.storage;
    return {
      project: project.name,
      id: String(project.project_id),
      metadata: fromHarborMetadata(project.metadata),
      ...(storage !== undefined ? { storageLimitBytes: storage } : {}),
    };
  }

  private async projectRobots(project: HarborProject, options: CallOptions): Promise<HarborRobot[]> {
    const robots: HarborRobot[] = [];
    const q = encodeURIComponent(`Level=project,ProjectID=${project.project_id}`);
    for (let page = 1; ; page++) {
      const answer = await this.client.send({
        operation: 'listRobot',
        method: 'GET',
        path: `robots?q=${q}&page=${page}&page_size=${PAGE_SIZE}`,
        ...call(options),
      });
      const batch = answer.json<HarborRobot[]>();
      robots.push(...batch);
      if (batch.length < PAGE_SIZE) return robots;
    }
  }

  private async findRobot(
    project: HarborProject,
    name: string,
    options: CallOptions,
  ): Promise<HarborRobot | undefined> {
    return (await this.projectRobots(project, options)).find((r) => isRobotNamed(r, project.name, name));
  }

  private async repositories(project: string, options: CallOptions): Promise<string[]> {
    const names: string[] = [];
    for (let page = 1; ; page++) {
      const answer = await this.client.send({
        operation: 'listRepositories',
        method: 'GET',
        path: `projects/${encodeURIComponent(project)}/repositories?page=${page}&page_size=${PAGE_SIZE}`,
        ...call(options),
      });
      const batch = answer.json<Array<{ name: string }>>();
      // Harbor lists `project/repo`; the delete path wants the part below the project.
      names.push(...batch.map((r) => r.name.slice(project.length + 1)));
      if (batch.length < PAGE_SIZE) return names;
    }
  }
}

function call(options: CallOptions): { signal?: AbortSignal; requestId?: string } {
  return { signal: options.signal, requestId: options.requestId };
}

/** Harbor's own rules (project: lowercase, digits, `._-`, 1–255; robot: the same), checked before a request. */
function checkName(what: 'project' | 'robot', name: string): void {
  if (!/^[a-z0-9]+(?:[._-][a-z0-9]+)*$/.test(name) || name.length > 255) {
    throw new SlipwayError(
      'InvalidInput',
      `${what} name "${name}": must be lowercase letters, digits and . _ - between them, at most 255 characters`,
      {
        plugin: PLUGIN,
        field: what,
      },
    );
  }
}
