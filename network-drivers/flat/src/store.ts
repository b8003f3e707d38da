import type { VipRecord } from './load-balancer.js';
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';

export interface Allocation { clusterId: string; owner: string; ip: number; target: string }

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

/** The allocations, kept in one file written atomically (temp, fsync, rename) before a call returns. */
export class FlatStateFile {
  constructor(private readonly file: string) {}

  load(): FlatState {
    if (!existsSync(this.file)) return { allocations: [], released: {}, cursors: {}, clusters: [] };
    return JSON.parse(readFileSync(this.file, 'utf8')) as FlatState;
  }

  save(state: FlatState): void {
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
