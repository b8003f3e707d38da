import { randomBytes } from 'node:crypto';
import { isIPv4 } from 'node:net';
import { FakeHttpError } from './http.js';
import { atLeast, type FakeContext, type Reply, type RouteCall, type ServiceMount } from './routes.js';
import { FLAVORS, newId, now, type FakeServer } from './state.js';

const USER_DATA_LIMIT = 65535;
const METADATA_ITEMS_LIMIT = 128;

/** Nova (compute API v2.1, microversions 2.1 - 2.96): servers, their metadata and volume attachments, flavors, zones. */
export function novaMount(ctx: FakeContext): ServiceMount {
  const { state } = ctx;
  const serverOr404 = (id: string): FakeServer => {
    const server = state.servers.get(id);
    if (!server || server.status === 'DELETED') throw new FakeHttpError(404, `Instance ${id} could not be found.`);
    return server;
  };

  return {
    service: 'compute',
    prefix: /^\/compute\/v2\.1/,
    versions: {
      header: 'compute',
      legacyHeader: 'x-openstack-nova-api-version',
      min: { major: 2, minor: 1 },
      max: { major: 2, minor: 96 },
    },
    routes: [
      { method: 'POST', path: /^\/servers$/, operation: 'createServer', handle: (call) => createServer(ctx, call) },
      {
        method: 'GET',
        path: /^\/servers$/,
        operation: 'listServers',
        handle: (call) => ({
          status: 200,
          body: {
            servers: listServers(ctx, call).map((s) => ({
              id: s.id,
              name: s.name,
              links: links(ctx, 'servers', s.id),
            })),
          },
        }),
      },
      {
        method: 'GET',
        path: /^\/servers\/detail$/,
        operation: 'listServersDetailed',
        handle: (call) => ({
          status: 200,
          body: { servers: listServers(ctx, call).map((s) => serverView(ctx, s, call)) },
        }),
      },
      {
        method: 'GET',
        path: /^\/servers\/([^/]+)$/,
        operation: 'showServer',
        handle: (call) => {
          // A deleted server answers with status DELETED until it is purged.
          const server = state.servers.get(call.params[0]!);
          if (!server) throw new FakeHttpError(404, `Instance ${call.params[0]} could not be found.`);
          return { status: 200, body: { server: serverView(ctx, server, call) } };
        },
      },
      {
        method: 'DELETE',
        path: /^\/servers\/([^/]+)$/,
        operation: 'deleteServer',
        handle: (call) => deleteServer(ctx, serverOr404(call.params[0]!)),
      },
      {
        method: 'POST',
        path: /^\/servers\/([^/]+)\/action$/,
        operation: (body) =>
          (({ reboot: 'rebootServer', 'os-start': 'startServer', 'os-stop': 'stopServer' }) as Record<string, string>)[
            Object.keys(body)[0] ?? ''
          ] ?? 'serverAction',
        handle: (call) => serverAction(ctx, serverOr404(call.params[0]!), call.body),
      },
      {
        method: 'GET',
        path: /^\/servers\/([^/]+)\/metadata$/,
        operation: 'listServerMetadata',
        handle: (call) => ({ status: 200, body: { metadata: serverOr404(call.params[0]!).metadata } }),
      },
      {
        method: 'POST',
        path: /^\/servers\/([^/]+)\/metadata$/,
        operation: 'createOrUpdateServerMetadataItems',
        handle: (call) => setMetadata(serverOr404(call.params[0]!), call.body, true),
      },
      {
        method: 'PUT',
        path: /^\/servers\/([^/]+)\/metadata$/,
        operation: 'replaceServerMetadataItems',
        handle: (call) => setMetadata(serverOr404(call.params[0]!), call.body, false),
      },
      {
        method: 'GET',
        path: /^\/servers\/([^/]+)\/os-volume_attachments$/,
        operation: 'listVolumeAttachments',
        handle: (call) => {
          const server = serverOr404(call.params[0]!);
          return { status: 200, body: { volumeAttachments: attachmentsOf(ctx, server.id) } };
        },
      },
      {
        method: 'POST',
        path: /^\/servers\/([^/]+)\/os-volume_attachments$/,
        operation: 'attachVolume',
        handle: (call) => attachVolume(ctx, serverOr404(call.params[0]!), call.body),
      },
      {
        method: 'GET',
        path: /^\/servers\/([^/]+)\/os-volume_attachments\/([^/]+)$/,
        operation: 'showVolumeAttachment',
        handle: (call) => {
          const server = serverOr404(call.params[0]!);
          const found = attachmentsOf(ctx, server.id).find((a) => a.volumeId === call.params[1]);
          if (!found) throw new FakeHttpError(404, `Volume ${call.params[1]} is not attached to server ${server.id}.`);
          return { status: 200, body: { volumeAttachment: found } };
        },
      },
      {
        method: 'DELETE',
        path: /^\/servers\/([^/]+)\/os-volume_attachments\/([^/]+)$/,
        operation: 'detachVolume',
        handle: (call) => detachVolume(ctx, serverOr404(call.params[0]!), call.params[1]!),
      },
      {
        method: 'GET',
        path: /^\/flavors$/,
        operation: 'listFlavors',
        handle: () => ({
          status: 200,
          body: {
            flavors: FLAVORS.map((f) => ({
              id: f.id,
              name: f.name,
              links: links(ctx, 'flavors', f.id),
              description: null,
            })),
          },
        }),
      },
      {
        method: 'GET',
        path: /^\/flavors\/detail$/,
        operation: 'listFlavorsWithDetails',
        handle: () => ({ status: 200, body: { flavors: FLAVORS.map((f) => flavorView(ctx, f)) } }),
      },
      {
        method: 'GET',
        path: /^\/flavors\/([^/]+)$/,
        operation: 'showFlavor',
        handle: (call) => {
          const flavor = FLAVORS.find((f) => f.id === call.params[0]);
          if (!flavor) throw new FakeHttpError(404, `Flavor ${call.params[0]} could not be found.`);
          return { status: 200, body: { flavor: flavorView(ctx, flavor) } };
        },
      },
      {
        method: 'GET',
        path: /^\/os-availability-zone$/,
        operation: 'getAvailabilityZoneInformation',
        handle: () => ({
          status: 200,
          body: {
            availabilityZoneInfo: state.zones.map((zoneName) => ({
              zoneName,
              zoneState: { available: true },
              hosts: null,
            })),
          },
        }),
      },
    ],
  };
}

function createServer(ctx: FakeContext, call: RouteCall): Reply {
  const { state } = ctx;
  const input = call.body.server as Record<string, unknown> | undefined;
  if (!input || typeof input !== 'object') throw invalid('server', "'server' is a required property");
  if (typeof input.name !== 'string' || input.name.length < 1 || input.name.length > 255)
    throw invalid('name', "'name' must be a string of 1 to 255 characters");
  if (input.tags !== undefined && !atLeast(call.version, 2, 52))
    throw new FakeHttpError(
      400,
      "Invalid input for field/attribute server. Value: {...}. Additional properties are not allowed ('tags' was unexpected)",
    );
  const tags = checkTags(input.tags);
  const image = typeof input.imageRef === 'string' ? state.images.get(input.imageRef) : undefined;
  if (!image) throw new FakeHttpError(400, 'Invalid imageRef provided.');
  if (image.status !== 'active') throw new FakeHttpError(400, `Image ${image.id} is not active.`);
  const flavor = FLAVORS.find(
    (f) =>
      f.id === input.flavorRef || (typeof input.flavorRef === 'string' && input.flavorRef.endsWith(`/flavors/${f.id}`)),
  );
  if (!flavor) throw new FakeHttpError(400, 'Invalid flavorRef provided.');
  const userData = checkUserData(input.user_data);
  const metadata = checkMetadata(input.metadata ?? {});
  const zone = input.availability_zone ?? state.zones[0];
  if (typeof zone !== 'string' || !state.zones.includes(zone))
    throw new FakeHttpError(400, 'The requested availability zone is not available');
  const networks = checkNetworks(ctx, input.networks, call);
  const used = state.liveServers().length;
  if (state.quota.vms !== undefined && used + 1 > state.quota.vms) {
    throw new FakeHttpError(
      403,
      `Quota exceeded for instances: Requested 1, but already used ${used} of ${state.quota.vms} instances`,
    );
  }
  const created = now();
  const server: FakeServer = {
    id: newId(),
    name: input.name,
    status: 'BUILD',
    vmState: 'building',
    taskState: 'scheduling',
    metadata,
    tags,
    userData,
    flavorId: flavor.id,
    imageId: image.id,
    networks,
    zone,
    keyName: typeof input.key_name === 'string' ? input.key_name : undefined,
    configDrive: input.config_drive === true,
    created,
    updated: created,
  };
  state.servers.set(server.id, server);
  const failure = ctx.buildFailures.shift();
  ctx.scheduler.later(ctx.timings.buildMs, () => {
    if (server.status !== 'BUILD') return;
    server.updated = now();
    server.taskState = null;
    if (failure) {
      Object.assign(server, { status: 'ERROR', vmState: 'error', fault: { ...failure, created: now() } });
      return;
    }
    Object.assign(server, { status: 'ACTIVE', vmState: 'active' });
    ctx.agents.boot(server.id);
  });
  return {
    status: 202,
    headers: { location: `${ctx.baseUrl}/compute/v2.1/servers/${server.id}` },
    body: {
      server: {
        id: server.id,
        links: links(ctx, 'servers', server.id),
        'OS-DCF:diskConfig': 'MANUAL',
        security_groups: securityGroups(input.security_groups),
        adminPass: randomBytes(9).toString('base64url'),
      },
    },
  };
}

/** Nova deletes asynchronously: task_state deleting, then (volumes detached, agent gone) DELETED, then purged. */
function deleteServer(ctx: FakeContext, server: FakeServer): Reply {
  if (server.taskState === 'deleting') return { status: 204 };
  server.taskState = 'deleting';
  server.updated = now();
  ctx.scheduler.later(ctx.timings.transitionMs, async () => {
    ctx.state.detachAll(server.id);
    await ctx.agents.stop(server.id);
    Object.assign(server, { status: 'DELETED', vmState: 'deleted', taskState: null, updated: now() });
    ctx.scheduler.later(ctx.timings.deletedRetentionMs, () => {
      ctx.state.servers.delete(server.id);
    });
  });
  return { status: 204 };
}

function serverAction(ctx: FakeContext, server: FakeServer, body: Record<string, unknown>): Reply {
  const action = Object.keys(body)[0];
  if (action !== 'reboot') throw new FakeHttpError(400, `There is no such action: ${action ?? ''}`);
  const type = (body.reboot as { type?: unknown } | undefined)?.type;
  if (type !== 'HARD' && type !== 'SOFT')
    throw invalid(
      'reboot.type',
      `Value: ${String(type)}. '${String(type)}' is not one of ['HARD', 'Hard', 'hard', 'SOFT', 'Soft', 'soft']`,
    );
  if (server.vmState !== 'active')
    throw new FakeHttpError(409, `Cannot 'reboot' instance ${server.id} while it is in vm_state ${server.vmState}`);
  if (server.taskState)
    throw new FakeHttpError(409, `Cannot 'reboot' instance ${server.id} while it is in task_state ${server.taskState}`);
  Object.assign(server, {
    status: type === 'HARD' ? 'HARD_REBOOT' : 'REBOOT',
    taskState: type === 'HARD' ? 'rebooting_hard' : 'rebooting',
    updated: now(),
  });
  ctx.scheduler.later(ctx.timings.transitionMs, () => {
    if (server.taskState !== 'rebooting_hard' && server.taskState !== 'rebooting') return;
    Object.assign(server, { status: 'ACTIVE', taskState: null, updated: now() });
    // The guest restarts: its agent process dies and boots again, reading its settings anew.
    void ctx.agents.restart(server.id);
  });
  return { status: 202 };
}

function setMetadata(server: FakeServer, body: Record<string, unknown>, merge: boolean): Reply {
  const items = checkMetadata(body.metadata);
  const next = merge ? { ...server.metadata, ...items } : items;
  if (Object.keys(next).length > METADATA_ITEMS_LIMIT)
    throw new FakeHttpError(
      403,
      `Quota exceeded for metadata_items: Requested ${Object.keys(next).length}, but already used 0 of ${METADATA_ITEMS_LIMIT} metadata_items`,
    );
  server.metadata = next;
  server.updated = now();
  return { status: 200, body: { metadata: next } };
}

function attachVolume(ctx: FakeContext, server: FakeServer, body: Record<string, unknown>): Reply {
  const request = body.volumeAttachment as { volumeId?: unknown } | undefined;
  if (typeof request?.volumeId !== 'string') throw invalid('volumeAttachment', "'volumeId' is a required property");
  if (server.vmState !== 'active')
    throw new FakeHttpError(
      409,
      `Cannot 'attach_volume' instance ${server.id} while it is in vm_state ${server.vmState}`,
    );
  if (server.taskState)
    throw new FakeHttpError(
      409,
      `Cannot 'attach_volume' instance ${server.id} while it is in task_state ${server.taskState}`,
    );
  const volume = ctx.state.volumes.get(request.volumeId);
  if (!volume) throw new FakeHttpError(404, `Volume ${request.volumeId} could not be found.`);
  if (volume.status !== 'available') {
    throw new FakeHttpError(
      400,
      `Invalid volume: volume ${volume.id} status must be available or downloading to reserve, but the current status is ${volume.status}.`,
    );
  }
  const attachment = {
    server_id: server.id,
    attachment_id: newId(),
    volume_id: volume.id,
    device: ctx.state.nextDevice(server.id),
    attached_at: now(),
    attached: false,
  };
  volume.attachments.push(attachment);
  volume.status = 'attaching';
  ctx.scheduler.later(ctx.timings.transitionMs, () => {
    if (volume.status !== 'attaching' || !volume.attachments.includes(attachment)) return;
    attachment.attached = true;
    volume.status = 'in-use';
    volume.updated = now();
  });
  return { status: 200, body: { volumeAttachment: attachmentView(attachment) } };
}

function detachVolume(ctx: FakeContext, server: FakeServer, volumeId: string): Reply {
  const volume = ctx.state.volumes.get(volumeId);
  const attachment = volume?.attachments.find((a) => a.server_id === server.id);
  if (!volume || !attachment)
    throw new FakeHttpError(404, `Volume ${volumeId} is not attached to server ${server.id}.`);
  if (server.taskState)
    throw new FakeHttpError(
      409,
      `Cannot 'detach_volume' instance ${server.id} while it is in task_state ${server.taskState}`,
    );
  if (volume.status !== 'in-use')
    throw new FakeHttpError(
      400,
      `Invalid volume: Unable to detach volume. Volume status must be 'in-use' and attach_status must be 'attached' to detach, but the current status is ${volume.status}.`,
    );
  volume.status = 'detaching';
  ctx.scheduler.later(ctx.timings.transitionMs, () => {
    volume.attachments = volume.attachments.filter((a) => a !== attachment);
    if (volume.status === 'detaching') volume.status = volume.attachments.length ? 'in-use' : 'available';
    volume.updated = now();
  });
  return { status: 202 };
}

/** Filters as Nova does: `name` is a regular expression, `tags` needs every listed tag, `status` exact; `limit`/`marker` page. */
function listServers(ctx: FakeContext, call: RouteCall): FakeServer[] {
  const { query } = call;
  let servers = ctx.state.liveServers();
  const name = query.get('name');
  if (name !== null) {
    let pattern: RegExp;
    try {
      pattern = new RegExp(name);
    } catch {
      throw new FakeHttpError(400, `Invalid input for query parameters name. Value: ${name}.`);
    }
    servers = servers.filter((s) => pattern.test(s.name));
  }
  const tags = query.get('tags');
  if (tags !== null && atLeast(call.version, 2, 26)) {
    const wanted = tags.split(',');
    servers = servers.filter((s) => wanted.every((t) => s.tags.includes(t)));
  }
  const status = query.get('status');
  if (status !== null) servers = servers.filter((s) => s.status === status.toUpperCase());
  const marker = query.get('marker');
  if (marker !== null) {
    const index = servers.findIndex((s) => s.id === marker);
    if (index < 0) throw new FakeHttpError(400, `marker [${marker}] not found`);
    servers = servers.slice(index + 1);
  }
  const limit = Number(query.get('limit') ?? 1000);
  if (!Number.isInteger(limit) || limit < 0)
    throw new FakeHttpError(400, `Invalid input for query parameters limit. Value: ${query.get('limit')}.`);
  return servers.slice(0, Math.min(limit, 1000));
}

function serverView(ctx: FakeContext, server: FakeServer, call: RouteCall): Record<string, unknown> {
  const flavor = FLAVORS.find((f) => f.id === server.flavorId)!;
  const volumes = [...ctx.state.volumes.values()].filter((v) => v.attachments.some((a) => a.server_id === server.id));
  return {
    id: server.id,
    name: server.name,
    status: server.status,
    tenant_id: ctx.state.project.id,
    user_id: ctx.state.user.id,
    metadata: server.metadata,
    hostId: server.status === 'BUILD' ? '' : 'a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8',
    image: { id: server.imageId, links: links(ctx, 'images', server.imageId) },
    flavor: {
      vcpus: flavor.vcpus,
      ram: flavor.ram,
      disk: flavor.disk,
      ephemeral: 0,
      swap: 0,
      original_name: flavor.name,
      extra_specs: {},
    },
    created: server.created,
    updated: server.updated,
    addresses:
      server.status === 'BUILD'
        ? {}
        : {
            private: server.networks.map((n) => ({
              addr: n.ip,
              version: 4,
              'OS-EXT-IPS:type': 'fixed',
              'OS-EXT-IPS-MAC:mac_addr': mac(server.id),
            })),
          },
    accessIPv4: '',
    accessIPv6: '',
    links: links(ctx, 'servers', server.id),
    'OS-DCF:diskConfig': 'MANUAL',
    progress: server.status === 'BUILD' ? 0 : 100,
    'OS-EXT-AZ:availability_zone': server.zone,
    config_drive: server.configDrive ? 'True' : '',
    key_name: server.keyName ?? null,
    'OS-SRV-USG:launched_at': server.status === 'BUILD' ? null : server.updated,
    'OS-SRV-USG:terminated_at': server.status === 'DELETED' ? server.updated : null,
    'OS-EXT-STS:task_state': server.taskState,
    'OS-EXT-STS:vm_state': server.vmState,
    'OS-EXT-STS:power_state': server.vmState === 'active' ? 1 : 0,
    'os-extended-volumes:volumes_attached': volumes.map((v) => ({ id: v.id, delete_on_termination: false })),
    security_groups: [{ name: 'default' }],
    description: null,
    locked: false,
    ...(atLeast(call.version, 2, 26) ? { tags: server.tags } : {}),
    ...(atLeast(call.version, 2, 73) ? { locked_reason: null } : {}),
    ...(atLeast(call.version, 2, 63) ? { trusted_image_certificates: null } : {}),
    ...(atLeast(call.version, 2, 71) ? { server_groups: [] } : {}),
    ...(server.fault ? { fault: server.fault } : {}),
  };
}

function attachmentsOf(ctx: FakeContext, serverId: string) {
  return [...ctx.state.volumes.values()]
    .flatMap((v) => v.attachments.filter((a) => a.server_id === serverId))
    .map(attachmentView);
}

function attachmentView(a: { server_id: string; volume_id: string; device: string }) {
  return {
    id: a.volume_id,
    serverId: a.server_id,
    volumeId: a.volume_id,
    device: a.device,
    tag: null,
    delete_on_termination: false,
  };
}

function flavorView(ctx: FakeContext, f: (typeof FLAVORS)[number]) {
  return {
    id: f.id,
    name: f.name,
    vcpus: f.vcpus,
    ram: f.ram,
    disk: f.disk,
    'OS-FLV-EXT-DATA:ephemeral': 0,
    swap: '',
    rxtx_factor: 1,
    'os-flavor-access:is_public': true,
    'OS-FLV-DISABLED:disabled': false,
    description: null,
    extra_specs: {},
    links: links(ctx, 'flavors', f.id),
  };
}

function checkNetworks(ctx: FakeContext, networks: unknown, call: RouteCall): Array<{ uuid: string; ip: string }> {
  if (networks === undefined && atLeast(call.version, 2, 37))
    throw invalid('server', "'networks' is a required property");
  if (networks === 'none') return [];
  if (networks === 'auto' || networks === undefined) return [{ uuid: ctx.state.networkId, ip: autoIp(ctx) }];
  if (!Array.isArray(networks)) throw invalid('networks', "must be 'auto', 'none' or a list");
  return networks.map((n: { uuid?: unknown; fixed_ip?: unknown }) => {
    if (typeof n?.uuid !== 'string') throw invalid('networks', "'uuid' is a required property");
    if (n.uuid !== ctx.state.networkId) throw new FakeHttpError(400, `Network ${n.uuid} could not be found.`);
    if (n.fixed_ip === undefined) return { uuid: n.uuid, ip: autoIp(ctx) };
    if (typeof n.fixed_ip !== 'string' || !isIPv4(n.fixed_ip))
      throw invalid('fixed_ip', `Value: ${String(n.fixed_ip)}. '${String(n.fixed_ip)}' is not a 'ipv4'`);
    const holder = ctx.state.serverWithIp(n.uuid, n.fixed_ip);
    if (holder)
      throw new FakeHttpError(400, `Fixed IP address ${n.fixed_ip} is already in use on instance ${holder.id}.`);
    return { uuid: n.uuid, ip: n.fixed_ip };
  });
}

function autoIp(ctx: FakeContext): string {
  for (let i = 2; i < 65000; i++) {
    const ip = `10.0.${Math.floor(i / 250)}.${i % 250}`;
    if (!ctx.state.serverWithIp(ctx.state.networkId, ip)) return ip;
  }
  throw new FakeHttpError(409, 'No more IP addresses available on network');
}

function checkUserData(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(value) || value.length % 4 !== 0)
    throw new FakeHttpError(400, 'User data needs to be valid base 64.');
  if (value.length > USER_DATA_LIMIT) {
    throw new FakeHttpError(
      400,
      `User data too large. User data must be no larger than ${USER_DATA_LIMIT} bytes once base64 encoded. Your data is ${value.length} bytes`,
    );
  }
  return value;
}

function checkMetadata(value: unknown): Record<string, string> {
  if (!value || typeof value !== 'object' || Array.isArray(value))
    throw invalid('metadata', "None is not of type 'object'");
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > METADATA_ITEMS_LIMIT)
    throw new FakeHttpError(
      403,
      `Quota exceeded for metadata_items: Requested ${entries.length}, but already used 0 of ${METADATA_ITEMS_LIMIT} metadata_items`,
    );
  for (const [key, item] of entries) {
    if (key.length < 1 || key.length > 255)
      throw invalid('metadata', `'${key}' does not match any of the regexes: '^[a-zA-Z0-9-_:. ]{1,255}$'`);
    if (typeof item !== 'string' || item.length > 255)
      throw invalid('metadata', `${JSON.stringify(item)} is not of type 'string' of at most 255 characters`);
  }
  return Object.fromEntries(entries) as Record<string, string>;
}

function checkTags(value: unknown): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.length > 50) throw invalid('tags', 'must be a list of at most 50 tags');
  for (const tag of value) {
    if (typeof tag !== 'string' || tag.length < 1 || tag.length > 60 || /[/,]/.test(tag))
      throw invalid('tags', `${JSON.stringify(tag)} is not a valid tag (1-60 characters, no '/' or ',')`);
  }
  return [...new Set(value as string[])];
}

function securityGroups(value: unknown): Array<{ name: string }> {
  return Array.isArray(value) && value.length
    ? value.map((g: { name?: unknown }) => ({ name: String(g?.name ?? 'default') }))
    : [{ name: 'default' }];
}

function links(ctx: FakeContext, collection: string, id: string) {
  return [
    { rel: 'self', href: `${ctx.baseUrl}/compute/v2.1/${collection}/${id}` },
    { rel: 'bookmark', href: `${ctx.baseUrl}/compute/${collection}/${id}` },
  ];
}

function mac(id: string): string {
  return `fa:16:3e:${id.slice(0, 2)}:${id.slice(2, 4)}:${id.slice(4, 6)}`;
}

function invalid(field: string, detail: string): FakeHttpError {
  return new FakeHttpError(400, `Invalid input for field/attribute ${field}. ${detail}`);
}
