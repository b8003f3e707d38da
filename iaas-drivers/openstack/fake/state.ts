import { randomUUID } from 'node:crypto';

/** A Nova server as the fake holds it. */
export interface FakeServer {
  id: string;
  name: string;
  status: 'BUILD' | 'ACTIVE' | 'HARD_REBOOT' | 'REBOOT' | 'ERROR' | 'DELETED';
  taskState: string | null;
  vmState: 'building' | 'active' | 'error' | 'deleted';
  metadata: Record<string, string>;
  tags: string[];
  /** Base64, as given at createServer. */
  userData?: string;
  flavorId: string;
  imageId: string;
  networks: Array<{ uuid: string; ip: string }>;
  zone: string;
  keyName?: string;
  configDrive: boolean;
  fault?: { code: number; message: string; created: string };
  created: string;
  updated: string;
}

export interface FakeAttachment {
  server_id: string;
  attachment_id: string;
  volume_id: string;
  device: string;
  attached_at: string;
  /** False while Cinder still says `attaching`: Nova lists the attachment at once, Cinder only when attached. */
  attached: boolean;
}

/** A Cinder volume. */
export interface FakeVolume {
  id: string;
  name: string | null;
  status: 'creating' | 'available' | 'attaching' | 'in-use' | 'detaching' | 'extending' | 'deleting' | 'error';
  size: number;
  zone: string;
  volumeType: string;
  metadata: Record<string, string>;
  attachments: FakeAttachment[];
  created: string;
  updated: string | null;
}

export interface FakeSnapshot {
  id: string;
  volumeId: string;
  name: string | null;
  status: 'creating' | 'available' | 'deleting' | 'error';
  size: number;
  metadata: Record<string, string>;
  created: string;
}

/** A Glance image; custom properties are kept apart from the core fields. */
export interface FakeImage {
  id: string;
  name: string | null;
  status: 'queued' | 'saving' | 'active' | 'killed';
  diskFormat: string | null;
  containerFormat: string | null;
  visibility: string;
  properties: Record<string, string>;
  size: number | null;
  checksum: string | null;
  hash: string | null;
  owner: string;
  created: string;
  updated: string;
}

export interface FakeToken {
  value: string;
  userId: string;
  projectId: string;
  expiresAt: number;
}

export interface FakeFlavor {
  id: string;
  name: string;
  vcpus: number;
  ram: number;
  disk: number;
}

/** The standard devstack flavors. */
export const FLAVORS: readonly FakeFlavor[] = Object.freeze([
  { id: '1', name: 'm1.tiny', vcpus: 1, ram: 512, disk: 1 },
  { id: '2', name: 'm1.small', vcpus: 1, ram: 2048, disk: 20 },
  { id: '3', name: 'm1.medium', vcpus: 2, ram: 4096, disk: 40 },
  { id: '4', name: 'm1.large', vcpus: 4, ram: 8192, disk: 80 },
  { id: '5', name: 'm1.xlarge', vcpus: 8, ram: 16384, disk: 160 },
]);

/** Everything the fake cloud holds. One instance per startFake(); nothing at module level. */
export class FakeCloudState {
  readonly servers = new Map<string, FakeServer>();
  readonly volumes = new Map<string, FakeVolume>();
  readonly snapshots = new Map<string, FakeSnapshot>();
  readonly images = new Map<string, FakeImage>();
  readonly tokens = new Map<string, FakeToken>();
  readonly quota: { vms?: number; disks?: number } = {};

  constructor(
    readonly project: { id: string; name: string; domain: string },
    readonly user: { id: string; name: string; domain: string; password: string },
    readonly networkId: string,
    readonly zones: readonly string[],
  ) {}

  /** Servers that count against the instances quota and show in lists: everything not yet gone. */
  liveServers(): FakeServer[] {
    return [...this.servers.values()].filter((s) => s.status !== 'DELETED');
  }

  /** Which server holds a fixed IP on a network, for Nova's FixedIpAlreadyInUse check. */
  serverWithIp(networkId: string, ip: string): FakeServer | undefined {
    return this.liveServers().find((s) => s.networks.some((n) => n.uuid === networkId && n.ip === ip));
  }

  /** Device names as libvirt hands them out: vda is the root disk. */
  nextDevice(serverId: string): string {
    const used = new Set(
      [...this.volumes.values()].flatMap((v) =>
        v.attachments.filter((a) => a.server_id === serverId).map((a) => a.device),
      ),
    );
    for (let i = 1; i < 26; i++) {
      const device = `/dev/vd${String.fromCharCode(97 + i)}`;
      if (!used.has(device)) return device;
    }
    return '/dev/vdz';
  }

  /** Detaches every volume of a server (Nova does it when the server is deleted). */
  detachAll(serverId: string): void {
    for (const volume of this.volumes.values()) {
      if (!volume.attachments.some((a) => a.server_id === serverId)) continue;
      volume.attachments = volume.attachments.filter((a) => a.server_id !== serverId);
      if (
        volume.attachments.length === 0 &&
        (volume.status === 'in-use' || volume.status === 'detaching' || volume.status === 'attaching')
      )
        volume.status = 'available';
      volume.updated = now();
    }
  }
}

export function newId(): string {
  return randomUUID();
}

export function now(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}
