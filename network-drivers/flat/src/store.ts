import type { VipRecord } from './load-balancer.js';
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';

export interface Allocation {
  clusterId: string;
  owner: string;
  ip: number;
  target: string;
}

export interface FlatState {
  allocations: Allocation[];
  /** Per target: addresses given back, oldest first, and the next never-used address. */
  released: Record<string, number[]>;
  cursors: Record<string, number>;
  clusters: string[];
  /** Per cluster: the name servers its network profile gave (`nodes_dns`), overriding the range's. */
  clusterDns?: Record<string, string[]>;
  /** Per cluster: its API VIP and the members last applied (with a load balancer configured). */
  vips?: Record<string, VipRecord>;
}

/**
 * Where the flat network keeps its state. `shared`: other control planes write to it too, so the driver
 * reads it again before each change and a conflicting write fails rather than overwrites.
 */
export interface FlatStateStore {
  readonly shared: boolean;
  load(): Promise<FlatState>;
  /** Writes what changed since `before` (the state as loaded). */
  save(state: FlatState, before: FlatState): Promise<void>;
}

export const emptyFlatState = (): FlatState => ({ allocations: [], released: {}, cursors: {}, clusters: [] });

/** The allocations, kept in one file written atomically (temp, fsync, rename) before a call returns. */
export class FlatStateFile implements FlatStateStore {
  readonly shared = false;

  constructor(private readonly file: string) {}

  async load(): Promise<FlatState> {
    return this.read();
  }

  async save(state: FlatState): Promise<void> {
    this.write(state);
  }

  exists(): boolean {
    return existsSync(this.file);
  }

  read(): FlatState {
    if (!existsSync(this.file)) return emptyFlatState();
    return JSON.parse(readFileSync(this.file, 'utf8')) as FlatState;
  }

  write(state: FlatState): void {
    const tmp = `${this.file}.tmp`;
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, JSON.stringify(state));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.file);
  }
}
