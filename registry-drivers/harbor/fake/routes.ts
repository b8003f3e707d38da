import { HarborHttpError } from './http.js';
import type { FakeProject, FakeRobot, HarborState } from './state.js';

/** The data path behind the API: repositories live in the real registry. */
export interface RepositoryStore {
  /** `project/repo` names in the registry under `project`. */
  repositories(project: string): Promise<string[]>;
  deleteRepository(name: string): Promise<boolean>;
  /** Bytes the project's blobs take (what Harbor's quota counts as used). */
  usedBytes(project: string): Promise<number>;
  healthy(): boolean;
}

export interface RouteInput {
  params: string[];
  query: URLSearchParams;
  body: Record<string, unknown>;
  /** `X-Is-Resource-Name: true`: a numeric path segment is a project name, not an id. */
  byName: boolean;
}

export interface Reply {
  status: number;
  body?: unknown;
  text?: string;
  contentType?: string;
  headers?: Record<string, string>;
}

export interface Route {
  method: string;
  path: RegExp;
  /** Harbor's swagger operationId, which faults aim at. */
  operation: string;
  anonymous?: boolean;
  handle(input: RouteInput): Promise<Reply> | Reply;
}

const API = '/api/v2.0';

export function harborRoutes(state: HarborState, repos: RepositoryStore, caPem: string): Route[] {
  const project = (input: RouteInput) => state.project(input.params[0]!, input.byName);
  const projectJson = async (p: FakeProject) => ({
    project_id: p.id,
    name: p.name,
    metadata: { ...p.metadata },
    owner_id: 1,
    owner_name: state.admin.username,
    creation_time: p.createdAt,
    update_time: p.createdAt,
    repo_count: (await repos.repositories(p.name)).length,
  });
  const robotJson = (r: FakeRobot) => ({
    id: r.id,
    name: r.name,
    level: r.level,
    description: r.description,
    disable: r.disable,
    duration: r.duration,
    expires_at: r.expiresAt,
    creation_time: r.createdAt,
    permissions: r.permissions,
  });
  const page = <T>(items: T[], query: URLSearchParams): Reply => {
    const size = Math.min(Number(query.get('page_size') ?? 10) || 10, 100);
    const number = Math.max(Number(query.get('page') ?? 1) || 1, 1);
    return {
      status: 200,
      body: items.slice((number - 1) * size, number * size),
      headers: { 'x-total-count': String(items.length) },
    };
  };

  return [
    {
      method: 'GET',
      path: /^\/health$/,
      operation: 'getHealth',
      anonymous: true,
      handle: () => {
        const registry = repos.healthy() ? 'healthy' : 'unhealthy';
        return {
          status: 200,
          body: {
            status: registry,
            components: [
              { name: 'core', status: 'healthy' },
              { name: 'registry', status: registry },
            ],
          },
        };
      },
    },
    {
      method: 'GET',
      path: /^\/systeminfo\/getcert$/,
      operation: 'getCert',
      anonymous: true,
      handle: () => ({
        status: 200,
        text: caPem,
        contentType: 'application/octet-stream',
        headers: { 'content-disposition': 'attachment; filename="ca.crt"' },
      }),
    },
    {
      method: 'HEAD',
      path: /^\/projects$/,
      operation: 'headProject',
      handle: (input) => {
        const name = input.query.get('project_name');
        if (!name) throw new HarborHttpError(400, 'project_name: required');
        return { status: [...state.projects.values()].some((p) => p.name === name) ? 200 : 404 };
      },
    },
    {
      method: 'GET',
      path: /^\/projects$/,
      operation: 'listProjects',
      handle: async (input) => {
        const filter = input.query.get('name') ?? '';
        const found = [...state.projects.values()].filter((p) => p.name.includes(filter));
        return page(await Promise.all(found.map(projectJson)), input.query);
      },
    },
    {
      method: 'POST',
      path: /^\/projects$/,
      operation: 'createProject',
      handle: (input) => {
        const p = state.createProject(input.body);
        return { status: 201, headers: { location: `${API}/projects/${p.id}` } };
      },
    },
    {
      method: 'GET',
      path: /^\/projects\/([^/]+)$/,
      operation: 'getProject',
      handle: async (input) => ({ status: 200, body: await projectJson(project(input)) }),
    },
    {
      method: 'PUT',
      path: /^\/projects\/([^/]+)$/,
      operation: 'updateProject',
      handle: (input) => {
        const p = project(input);
        Object.assign(p.metadata, state.checkMetadata(input.body.metadata ?? {}));
        return { status: 200 };
      },
    },
    {
      method: 'DELETE',
      path: /^\/projects\/([^/]+)$/,
      operation: 'deleteProject',
      handle: async (input) => {
        const p = project(input);
        if ((await repos.repositories(p.name)).length > 0) {
          throw new HarborHttpError(412, `the project ${p.name} contains repositories, can not be deleted`);
        }
        state.deleteProject(p);
        return { status: 200 };
      },
    },
    {
      method: 'GET',
      path: /^\/projects\/([^/]+)\/_deletable$/,
      operation: 'getProjectDeletableStatus',
      handle: async (input) => {
        const count = (await repos.repositories(project(input).name)).length;
        return {
          status: 200,
          body: count
            ? { deletable: false, message: 'the project contains repositories, can not be deleted' }
            : { deletable: true },
        };
      },
    },
    {
      method: 'GET',
      path: /^\/projects\/([^/]+)\/summary$/,
      operation: 'getProjectSummary',
      handle: async (input) => {
        const p = project(input);
        return {
          status: 200,
          body: {
            repo_count: (await repos.repositories(p.name)).length,
            quota: { hard: { storage: p.storageLimit }, used: { storage: await repos.usedBytes(p.name) } },
            maintainer_count: [...state.members.values()].filter((m) => m.projectId === p.id && m.roleId === 4).length,
          },
        };
      },
    },
    {
      method: 'GET',
      path: /^\/projects\/([^/]+)\/metadatas$/,
      operation: 'listProjectMetadatas',
      handle: (input) => ({ status: 200, body: { ...project(input).metadata } }),
    },
    {
      method: 'POST',
      path: /^\/projects\/([^/]+)\/metadatas$/,
      operation: 'addProjectMetadatas',
      handle: (input) => {
        Object.assign(project(input).metadata, state.checkMetadata(input.body));
        return { status: 200 };
      },
    },
    {
      method: 'GET',
      path: /^\/projects\/([^/]+)\/metadatas\/([^/]+)$/,
      operation: 'getProjectMetadata',
      handle: (input) => {
        const value = project(input).metadata[input.params[1]!];
        if (value === undefined) throw new HarborHttpError(404, `metadata ${input.params[1]} not found`);
        return { status: 200, body: { [input.params[1]!]: value } };
      },
    },
    {
      method: 'PUT',
      path: /^\/projects\/([^/]+)\/metadatas\/([^/]+)$/,
      operation: 'updateProjectMetadata',
      handle: (input) => {
        const p = project(input);
        const key = input.params[1]!;
        const values = state.checkMetadata(input.body);
        if (Object.keys(values).length !== 1 || values[key] === undefined)
          throw new HarborHttpError(400, `the body must hold exactly the key ${key}`);
        if (p.metadata[key] === undefined) throw new HarborHttpError(404, `metadata ${key} not found`);
        p.metadata[key] = values[key];
        return { status: 200 };
      },
    },
    {
      method: 'DELETE',
      path: /^\/projects\/([^/]+)\/metadatas\/([^/]+)$/,
      operation: 'deleteProjectMetadata',
      handle: (input) => {
        const p = project(input);
        if (p.metadata[input.params[1]!] === undefined)
          throw new HarborHttpError(404, `metadata ${input.params[1]} not found`);
        delete p.metadata[input.params[1]!];
        return { status: 200 };
      },
    },
    {
      method: 'GET',
      path: /^\/projects\/([^/]+)\/members$/,
      operation: 'listProjectMembers',
      handle: (input) => {
        const p = project(input);
        const members = [...state.members.values()]
          .filter((m) => m.projectId === p.id)
          .map((m) => ({
            id: m.id,
            project_id: p.id,
            entity_name: m.username,
            entity_type: 'u',
            entity_id: m.id,
            role_id: m.roleId,
          }));
        return page(members, input.query);
      },
    },
    {
      method: 'POST',
      path: /^\/projects\/([^/]+)\/members$/,
      operation: 'createProjectMember',
      handle: (input) => {
        const p = project(input);
        const member = state.addMember(p, input.body);
        return { status: 201, headers: { location: `${API}/projects/${p.id}/members/${member.id}` } };
      },
    },
    {
      method: 'PUT',
      path: /^\/projects\/([^/]+)\/members\/(\d+)$/,
      operation: 'updateProjectMember',
      handle: (input) => {
        const member = state.member(project(input), input.params[1]!);
        const roleId = input.body.role_id;
        if (typeof roleId !== 'number' || roleId < 1 || roleId > 5)
          throw new HarborHttpError(400, 'role_id: must be 1..5');
        member.roleId = roleId;
        return { status: 200 };
      },
    },
    {
      method: 'DELETE',
      path: /^\/projects\/([^/]+)\/members\/(\d+)$/,
      operation: 'deleteProjectMember',
      handle: (input) => {
        state.members.delete(state.member(project(input), input.params[1]!).id);
        return { status: 200 };
      },
    },
    {
      method: 'GET',
      path: /^\/projects\/([^/]+)\/repositories$/,
      operation: 'listRepositories',
      handle: async (input) => {
        const p = project(input);
        return page(
          (await repos.repositories(p.name)).map((name) => ({ name, project_id: p.id })),
          input.query,
        );
      },
    },
    {
      method: 'DELETE',
      path: /^\/projects\/([^/]+)\/repositories\/([^/]+)$/,
      operation: 'deleteRepository',
      handle: async (input) => {
        const p = project(input);
        // The path segment arrives decoded once; Harbor's clients encode a slash in a repository name twice.
        const name = `${p.name}/${decodeURIComponent(input.params[1]!)}`;
        if (!(await repos.deleteRepository(name))) throw new HarborHttpError(404, `repository ${name} not found`);
        return { status: 200 };
      },
    },
    {
      method: 'GET',
      path: /^\/quotas$/,
      operation: 'listQuotas',
      handle: async (input) => {
        const refId = input.query.get('reference_id');
        const found = [...state.projects.values()].filter(
          (p) => (input.query.get('reference') ?? 'project') === 'project' && (!refId || String(p.id) === refId),
        );
        const quotas = await Promise.all(
          found.map(async (p) => ({
            id: p.quotaId,
            ref: { id: p.id, name: p.name },
            hard: { storage: p.storageLimit },
            used: { storage: await repos.usedBytes(p.name) },
          })),
        );
        return page(quotas, input.query);
      },
    },
    {
      method: 'PUT',
      path: /^\/quotas\/(\d+)$/,
      operation: 'updateQuota',
      handle: (input) => {
        const p = [...state.projects.values()].find((x) => String(x.quotaId) === input.params[0]);
        if (!p) throw new HarborHttpError(404, `quota ${input.params[0]} not found`);
        const storage = (input.body.hard as { storage?: unknown } | undefined)?.storage;
        if (typeof storage !== 'number' || !Number.isInteger(storage) || (storage < 0 && storage !== -1))
          throw new HarborHttpError(400, 'hard.storage: -1 or bytes');
        p.storageLimit = storage;
        return { status: 200 };
      },
    },
    {
      method: 'GET',
      path: /^\/robots$/,
      operation: 'listRobot',
      handle: (input) => {
        const q = parseQuery(input.query.get('q') ?? '');
        const robots = [...state.robots.values()].filter(
          (r) =>
            (q.Level === undefined || r.level === q.Level) &&
            (q.ProjectID === undefined || String(r.projectId) === q.ProjectID) &&
            (q.name === undefined || r.name.includes(q.name)),
        );
        return page(robots.map(robotJson), input.query);
      },
    },
    {
      method: 'POST',
      path: /^\/robots$/,
      operation: 'createRobot',
      handle: (input) => {
        const robot = state.createRobot(input.body);
        return {
          status: 201,
          headers: { location: `${API}/robots/${robot.id}` },
          body: {
            id: robot.id,
            name: robot.name,
            secret: robot.secret,
            creation_time: robot.createdAt,
            expires_at: robot.expiresAt,
          },
        };
      },
    },
    {
      method: 'GET',
      path: /^\/robots\/(\d+)$/,
      operation: 'getRobotByID',
      handle: (input) => ({ status: 200, body: robotJson(state.robot(input.params[0]!)) }),
    },
    {
      method: 'PUT',
      path: /^\/robots\/(\d+)$/,
      operation: 'updateRobot',
      handle: (input) => {
        state.updateRobot(state.robot(input.params[0]!), input.body);
        return { status: 200 };
      },
    },
    {
      method: 'PATCH',
      path: /^\/robots\/(\d+)$/,
      operation: 'refreshSec',
      handle: (input) => ({
        status: 200,
        body: { secret: state.refreshSecret(state.robot(input.params[0]!), input.body) },
      }),
    },
    {
      method: 'DELETE',
      path: /^\/robots\/(\d+)$/,
      operation: 'deleteRobot',
      handle: (input) => {
        state.robots.delete(state.robot(input.params[0]!).id);
        return { status: 200 };
      },
    },
  ];
}

/** Harbor's `q` query: `k=v,k2=v2` (exact match; `~` fuzzy is read as a plain value here). */
function parseQuery(q: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of q.split(',')) {
    const [key, ...rest] = part.split('=');
    if (key && rest.length) out[key.trim()] = rest.join('=').replace(/^~/, '').trim();
  }
  return out;
}
