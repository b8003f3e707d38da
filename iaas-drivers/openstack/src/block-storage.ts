import type { OpenStackClient } from './client.js';

/** Cinder volume statuses the driver meets (the API reference lists a few more, all transitional or failed). */
export type VolumeStatus =
  | 'creating'
  | 'available'
  | 'reserved'
  | 'attaching'
  | 'detaching'
  | 'in-use'
  | 'maintenance'
  | 'deleting'
  | 'awaiting-transfer'
  | 'error'
  | 'error_deleting'
  | 'backing-up'
  | 'restoring-backup'
  | 'error_backing-up'
  | 'error_restoring'
  | 'error_extending'
  | 'downloading'
  | 'uploading'
  | 'retyping'
  | 'extending';

export interface Volume {
  id: string;
  name?: string | null;
  status: VolumeStatus;
  /** GiB. */
  size: number;
  availability_zone?: string;
  metadata: Record<string, string>;
  attachments: Array<{ server_id: string; attachment_id?: string; device?: string; volume_id?: string }>;
}

export type SnapshotStatus =
  | 'creating'
  | 'available'
  | 'backing-up'
  | 'deleting'
  | 'error'
  | 'deleted'
  | 'unmanaging'
  | 'restoring'
  | 'error_deleting';

export interface Snapshot {
  id: string;
  volume_id: string;
  status: SnapshotStatus;
  metadata: Record<string, string>;
}

type Signal = { signal?: AbortSignal };

/** The Cinder v3 calls the driver makes. */
export class BlockStorageApi {
  constructor(private readonly client: OpenStackClient) {}

  async createVolume(
    volume: {
      size: number;
      name: string;
      metadata: Record<string, string>;
      availability_zone?: string;
      volume_type?: string;
    },
    options: Signal,
  ): Promise<Volume> {
    const body = await this.client.request<{ volume: Volume }>('volumev3', {
      operation: 'createVolume',
      method: 'POST',
      path: '/volumes',
      json: { volume },
      permanent: 'DiskError',
      ...options,
    });
    return body!.volume;
  }

  async showVolume(id: string, options: Signal): Promise<Volume | undefined> {
    const body = await this.client.request<{ volume: Volume }>('volumev3', {
      operation: 'showVolume',
      path: `/volumes/${encodeURIComponent(id)}`,
      notFoundOk: true,
      ...options,
    });
    return body?.volume;
  }

  /** Volumes whose metadata holds every pair of `metadata` (Cinder filters server-side), following pages. */
  async listVolumes(metadata: Record<string, string>, options: Signal): Promise<Volume[]> {
    return this.paged<Volume>('volumes', 'listVolumesWithDetails', '/volumes/detail', metadata, options);
  }

  async deleteVolume(id: string, options: Signal): Promise<boolean> {
    const body = await this.client.request('volumev3', {
      operation: 'deleteVolume',
      method: 'DELETE',
      path: `/volumes/${encodeURIComponent(id)}`,
      notFoundOk: true,
      permanent: 'DiskError',
      ...options,
    });
    return body !== undefined;
  }

  async extendVolume(id: string, newSizeGb: number, options: Signal): Promise<void> {
    await this.client.request('volumev3', {
      operation: 'extendVolume',
      method: 'POST',
      path: `/volumes/${encodeURIComponent(id)}/action`,
      json: { 'os-extend': { new_size: newSizeGb } },
      permanent: 'DiskError',
      ...options,
    });
  }

  async createSnapshot(
    snapshot: { volume_id: string; name: string; metadata: Record<string, string> },
    options: Signal,
  ): Promise<Snapshot> {
    // force: Cinder refuses to snapshot an in-use volume without it; the agent's disk is normally attached.
    const body = await this.client.request<{ snapshot: Snapshot }>('volumev3', {
      operation: 'createSnapshot',
      method: 'POST',
      path: '/snapshots',
      json: { snapshot: { ...snapshot, force: true } },
      permanent: 'DiskError',
      ...options,
    });
    return body!.snapshot;
  }

  async showSnapshot(id: string, options: Signal): Promise<Snapshot | undefined> {
    const body = await this.client.request<{ snapshot: Snapshot }>('volumev3', {
      operation: 'showSnapshot',
      path: `/snapshots/${encodeURIComponent(id)}`,
      notFoundOk: true,
      ...options,
    });
    return body?.snapshot;
  }

  async listSnapshots(metadata: Record<string, string>, options: Signal): Promise<Snapshot[]> {
    return this.paged<Snapshot>('snapshots', 'listSnapshotsWithDetails', '/snapshots/detail', metadata, options);
  }

  async deleteSnapshot(id: string, options: Signal): Promise<boolean> {
    const body = await this.client.request('volumev3', {
      operation: 'deleteSnapshot',
      method: 'DELETE',
      path: `/snapshots/${encodeURIComponent(id)}`,
      notFoundOk: true,
      permanent: 'DiskError',
      ...options,
    });
    return body !== undefined;
  }

  private async paged<T extends { id: string }>(
    key: string,
    operation: string,
    path: string,
    metadata: Record<string, string>,
    options: Signal,
  ): Promise<T[]> {
    const all: T[] = [];
    const limit = 500;
    const filter = Object.keys(metadata).length ? JSON.stringify(metadata) : undefined;
    for (let marker: string | undefined; ; ) {
      const body = await this.client.request<Record<string, T[]>>('volumev3', {
        operation,
        path,
        query: { metadata: filter, limit, marker },
        ...options,
      });
      const page = body?.[key] ?? [];
      all.push(...page);
      if (page.length < limit) return all;
      marker = page[page.length - 1]!.id;
    }
  }
}
