import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/**
 * Who a replica is, for leases and for people: a random part makes each process's id unique (a restarted
 * process, same host and maybe same pid, is a new owner), host and pid say where to look.
 */
export interface ReplicaIdentity {
  /** `host/pid/random`: what tasks' `owner` and the leader's `holder` hold. */
  id: string;
  host: string;
  pid: number;
}

export function newReplicaIdentity(): ReplicaIdentity {
  const host = hostname();
  return { id: `${host}/${process.pid}/${randomBytes(4).toString('hex')}`, host, pid: process.pid };
}
