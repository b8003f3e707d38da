import {
  SlipwayError,
  encodeAgentSettings,
  throwIfAborted,
  type CallOptions,
  type CreateVmInput,
  type CreatedVm,
} from '@slipway/contracts';
import type { Flavor, Server } from './compute.js';
import { stringProperty, type OpenStackContext } from './context.js';
import { PLUGIN, serverFaultError } from './errors.js';
import { selectFlavor } from './flavors.js';
import { AGENT_ID_KEY, REQUEST_ID_KEY, metadataOf, requestTag, resourceName } from './naming.js';
import { pollUntil } from './poll.js';

/** Statuses of a server that is on its way out: a lookup by request id passes over them. */
const GONE: ReadonlySet<string> = new Set(['DELETED', 'SOFT_DELETED', 'ERROR']);

/** The VM verbs on Nova. */
export class VmOperations {
  private flavors?: Promise<Flavor[]>;

  constructor(private readonly ctx: OpenStackContext) {}

  /**
   * Idempotent through a server tag derived from the request id: a server carrying it is returned instead of
   * creating another. Window: two calls with the same id running at the same instant can both miss and create
   * two servers; the engine never runs one step twice concurrently, and a crash-and-resume finds the tag
   * because Nova records the server (with its tags) before answering 202.
   */
  async create(input: CreateVmInput, options: CallOptions = {}): Promise<CreatedVm> {
    const { signal, requestId } = options;
    throwIfAborted(signal);
    const tag = requestId ? requestTag(requestId) : undefined;
    if (tag) {
      const existing = (await this.ctx.compute.listServers({ tags: tag }, { signal })).find(
        (s) => !GONE.has(s.status) && s['OS-EXT-STS:task_state'] !== 'deleting',
      );
      if (existing) return this.createdVm(await this.waitActive(existing.id, signal));
    }
    const properties = input.cloudProperties;
    const flavor = await this.flavorFor(input, signal);
    const zone = input.zone ?? stringProperty(properties, 'availability_zone') ?? this.ctx.config.availability_zone;
    const securityGroups = stringList(properties?.security_groups) ?? this.ctx.config.security_groups;
    const keyName = stringProperty(properties, 'key_name') ?? this.ctx.config.key_name;
    const id = await this.ctx.compute.createServer(
      {
        name: resourceName('slipway', input.agentId),
        imageRef: imageIdOf(input.stemcellId),
        flavorRef: flavor.id,
        // Nova wants user_data base64-encoded; the metadata service serves it decoded, i.e. the settings JSON.
        user_data: encodeAgentSettings(input.env),
        metadata: metadataOf({ ...input.metadata, [AGENT_ID_KEY]: input.agentId, [REQUEST_ID_KEY]: requestId }),
        ...(tag ? { tags: [tag] } : {}),
        networks: [
          { uuid: stringProperty(properties, 'network_id') ?? this.ctx.config.network_id, fixed_ip: input.network.ip },
        ],
        ...(zone ? { availability_zone: zone } : {}),
        ...(securityGroups?.length ? { security_groups: securityGroups.map((name) => ({ name })) } : {}),
        ...(keyName ? { key_name: keyName } : {}),
        ...(properties?.config_drive === true ? { config_drive: true } : {}),
      },
      { signal },
    );
    return this.createdVm(await this.waitActive(id, signal));
  }

  /** Deletes and waits until Nova has detached the volumes and the server is gone (or shows DELETED). */
  async delete(vmId: string, options: CallOptions = {}): Promise<void> {
    const { signal } = options;
    if (!(await this.ctx.compute.deleteServer(vmId, { signal }))) return;
    await pollUntil(async () => {
      const server = await this.ctx.compute.showServer(vmId, { signal });
      return !server || server.status === 'DELETED' ? true : undefined;
    }, this.pollOptions(signal));
  }

  async exists(vmId: string, options: CallOptions = {}): Promise<boolean> {
    const server = await this.ctx.compute.showServer(vmId, { signal: options.signal });
    return server !== undefined && server.status !== 'DELETED' && server.status !== 'SOFT_DELETED';
  }

  /** HARD reboot, then waits for ACTIVE again. */
  async reboot(vmId: string, options: CallOptions = {}): Promise<void> {
    const { signal } = options;
    await this.ctx.compute.rebootServer(vmId, { signal });
    await pollUntil(async () => {
      const server = await this.ctx.compute.showServer(vmId, { signal });
      if (!server)
        throw new SlipwayError('NotFound', `compute server ${vmId} disappeared while rebooting`, { plugin: PLUGIN });
      if (server.status === 'ERROR')
        throw new SlipwayError(
          'CloudError',
          `compute server ${vmId} went to ERROR while rebooting: ${server.fault?.message ?? 'no fault recorded'}`,
          { plugin: PLUGIN },
        );
      return server.status === 'ACTIVE' && !server['OS-EXT-STS:task_state'] ? true : undefined;
    }, this.pollOptions(signal));
  }

  async setMetadata(vmId: string, metadata: Record<string, string>, options: CallOptions = {}): Promise<void> {
    await this.ctx.compute.updateServerMetadata(vmId, metadataOf(metadata), { signal: options.signal });
  }

  /** Servers whose metadata holds every pair of `tags`; Nova cannot filter on metadata, so the driver does. */
  async list(tags: Record<string, string>, signal?: AbortSignal): Promise<Server[]> {
    const servers = await this.ctx.compute.listServers({}, { signal });
    return servers.filter((s) => Object.entries(tags).every(([k, v]) => s.metadata?.[k] === v));
  }

  /** Waits through BUILD; an ERROR server is deleted (the contract: clean up what failed) and reported. */
  private async waitActive(id: string, signal?: AbortSignal): Promise<Server> {
    return pollUntil(async () => {
      const server = await this.ctx.compute.showServer(id, { signal });
      if (!server) {
        throw new SlipwayError('VmCreationFailed', `compute server ${id} disappeared while building`, {
          plugin: PLUGIN,
          retryable: true,
        });
      }
      if (server.status === 'ERROR') {
        const error = serverFaultError(id, server.fault);
        await this.ctx.compute.deleteServer(id, {}).catch((cleanup: unknown) => {
          this.ctx.logger.warn('could not delete the failed server', { serverId: id, error: String(cleanup) });
        });
        throw error;
      }
      return server.status === 'ACTIVE' ? server : undefined;
    }, this.pollOptions(signal));
  }

  private async flavorFor(input: CreateVmInput, signal?: AbortSignal): Promise<Flavor> {
    const named = stringProperty(input.cloudProperties, 'instance_type') ?? input.resources.instanceType;
    const flavors = await this.flavorList(signal, false);
    if (named && !flavors.some((f) => f.name === named || f.id === named)) {
      // A flavor created after the list was cached: look once more before refusing.
      return selectFlavor(await this.flavorList(signal, true), input.resources, named, this.ctx.config.default_flavor);
    }
    return selectFlavor(flavors, input.resources, named, this.ctx.config.default_flavor);
  }

  /** Flavors change rarely: listed once per driver, again only when a named one is missing. */
  private async flavorList(signal: AbortSignal | undefined, refresh: boolean): Promise<Flavor[]> {
    if (refresh || !this.flavors) {
      const pending = this.ctx.compute.listFlavors({ signal });
      this.flavors = pending;
      pending.catch(() => {
        if (this.flavors === pending) this.flavors = undefined;
      });
    }
    return this.flavors;
  }

  private createdVm(server: Server): CreatedVm {
    const fixed = Object.values(server.addresses ?? {})
      .flat()
      .find((a) => a.version === 4 && a['OS-EXT-IPS:type'] !== 'floating');
    return {
      vmId: server.id,
      ...(fixed ? { ip: fixed.addr } : {}),
      ...(server['OS-EXT-AZ:availability_zone'] ? { zone: server['OS-EXT-AZ:availability_zone'] } : {}),
    };
  }

  private pollOptions(signal?: AbortSignal) {
    return { clock: this.ctx.clock, intervalMs: this.ctx.pollIntervalMs, signal };
  }
}

/** A light stemcell's id carries the suffix ` light` (BOSH's convention): the image belongs to the operator. */
export const LIGHT_SUFFIX = ' light';

export function imageIdOf(stemcellId: string): string {
  return stemcellId.endsWith(LIGHT_SUFFIX) ? stemcellId.slice(0, -LIGHT_SUFFIX.length) : stemcellId;
}

function stringList(value: unknown): string[] | undefined {
  return Array.isArray(value) && value.every((v) => typeof v === 'string') ? (value as string[]) : undefined;
}
