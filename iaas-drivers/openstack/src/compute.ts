import type { OpenStackClient } from './client.js';
import type { PermanentCode } from './errors.js';

/** Nova server statuses (the API reference's list); the driver acts on a few and waits through the rest. */
export type ServerStatus =
  | 'ACTIVE'
  | 'BUILD'
  | 'DELETED'
  | 'ERROR'
  | 'HARD_REBOOT'
  | 'MIGRATING'
  | 'PASSWORD'
  | 'PAUSED'
  | 'REBOOT'
  | 'REBUILD'
  | 'RESCUE'
  | 'RESIZE'
  | 'REVERT_RESIZE'
  | 'SHELVED'
  | 'SHELVED_OFFLOADED'
  | 'SHUTOFF'
  | 'SOFT_DELETED'
  | 'SUSPENDED'
  | 'UNKNOWN'
  | 'VERIFY_RESIZE';

export interface Server {
  id: string;
  name: string;
  status: ServerStatus;
  metadata: Record<string, string>;
  tags?: string[];
  addresses?: Record<string, Array<{ addr: string; version: number; 'OS-EXT-IPS:type'?: string }>>;
  'OS-EXT-AZ:availability_zone'?: string;
  'OS-EXT-STS:task_state'?: string | null;
  fault?: { code?: number; message?: string };
}

export interface Flavor {
  id: string;
  name: string;
  vcpus: number;
  ram: number;
  disk: number;
}

export interface VolumeAttachment {
  id: string;
  volumeId: string;
  serverId: string;
  device?: string;
}

export interface CreateServerBody {
  name: string;
  imageRef: string;
  flavorRef: string;
  user_data: string;
  metadata: Record<string, string>;
  tags?: string[];
  networks: Array<{ uuid: string; fixed_ip?: string }>;
  availability_zone?: string;
  security_groups?: Array<{ name: string }>;
  key_name?: string;
  config_drive?: boolean;
}

type Signal = { signal?: AbortSignal };

/** The Nova calls the driver makes, one method per API reference operation. */
export class ComputeApi {
  constructor(private readonly client: OpenStackClient) {}

  async createServer(server: CreateServerBody, options: Signal): Promise<string> {
    const body = await this.client.request<{ server: { id: string } }>('compute', {
      operation: 'createServer',
      method: 'POST',
      path: '/servers',
      json: { server },
      permanent: 'VmCreationFailed',
      ...options,
    });
    return body!.server.id;
  }

  async showServer(id: string, options: Signal): Promise<Server | undefined> {
    const body = await this.client.request<{ server: Server }>('compute', {
      operation: 'showServer',
      path: `/servers/${encodeURIComponent(id)}`,
      notFoundOk: true,
      ...options,
    });
    return body?.server;
  }

  /** Every server matching `filters` (Nova's `tags`, `name`...), following `limit`/`marker` pages. */
  async listServers(filters: Record<string, string>, options: Signal): Promise<Server[]> {
    const all: Server[] = [];
    const limit = 500;
    for (let marker: string | undefined; ; ) {
      const body = await this.client.request<{ servers: Server[] }>('compute', {
        operation: 'listServersDetailed',
        path: '/servers/detail',
        query: { ...filters, limit, marker },
        ...options,
      });
      const page = body?.servers ?? [];
      all.push(...page);
      if (page.length < limit) return all;
      marker = page[page.length - 1]!.id;
    }
  }

  /** Answers false when the server is already gone. */
  async deleteServer(id: string, options: Signal): Promise<boolean> {
    const body = await this.client.request('compute', {
      operation: 'deleteServer',
      method: 'DELETE',
      path: `/servers/${encodeURIComponent(id)}`,
      notFoundOk: true,
      ...options,
    });
    return body !== undefined;
  }

  async rebootServer(id: string, options: Signal): Promise<void> {
    await this.client.request('compute', {
      operation: 'rebootServer',
      method: 'POST',
      path: `/servers/${encodeURIComponent(id)}/action`,
      json: { reboot: { type: 'HARD' } },
      ...options,
    });
  }

  /** POST merges into the server's metadata (PUT would replace it and drop `slipway.request_id`). */
  async updateServerMetadata(id: string, metadata: Record<string, string>, options: Signal): Promise<void> {
    await this.client.request('compute', {
      operation: 'createOrUpdateServerMetadataItems',
      method: 'POST',
      path: `/servers/${encodeURIComponent(id)}/metadata`,
      json: { metadata },
      ...options,
    });
  }

  async listFlavors(options: Signal): Promise<Flavor[]> {
    const body = await this.client.request<{ flavors: Flavor[] }>('compute', {
      operation: 'listFlavorsWithDetails',
      path: '/flavors/detail',
      ...options,
    });
    return body?.flavors ?? [];
  }

  async listAvailabilityZones(
    options: Signal,
  ): Promise<Array<{ zoneName: string; zoneState: { available: boolean } }>> {
    const body = await this.client.request<{
      availabilityZoneInfo: Array<{ zoneName: string; zoneState: { available: boolean } }>;
    }>('compute', {
      operation: 'getAvailabilityZoneInformation',
      path: '/os-availability-zone',
      ...options,
    });
    return body?.availabilityZoneInfo ?? [];
  }

  async attachVolume(serverId: string, volumeId: string, options: Signal): Promise<VolumeAttachment> {
    const body = await this.client.request<{ volumeAttachment: VolumeAttachment }>('compute', {
      operation: 'attachVolume',
      method: 'POST',
      path: `/servers/${encodeURIComponent(serverId)}/os-volume_attachments`,
      json: { volumeAttachment: { volumeId } },
      permanent: 'DiskError' satisfies PermanentCode,
      ...options,
    });
    return body!.volumeAttachment;
  }

  /** Answers undefined when the server is gone. */
  async listVolumeAttachments(serverId: string, options: Signal): Promise<VolumeAttachment[] | undefined> {
    const body = await this.client.request<{ volumeAttachments: VolumeAttachment[] }>('compute', {
      operation: 'listVolumeAttachments',
      path: `/servers/${encodeURIComponent(serverId)}/os-volume_attachments`,
      notFoundOk: true,
      ...options,
    });
    return body?.volumeAttachments;
  }

  /** Answers false when the server is gone or the volume is not attached to it. */
  async detachVolume(serverId: string, volumeId: string, options: Signal): Promise<boolean> {
    const body = await this.client.request('compute', {
      operation: 'detachVolume',
      method: 'DELETE',
      path: `/servers/${encodeURIComponent(serverId)}/os-volume_attachments/${encodeURIComponent(volumeId)}`,
      notFoundOk: true,
      permanent: 'DiskError',
      ...options,
    });
    return body !== undefined;
  }
}
