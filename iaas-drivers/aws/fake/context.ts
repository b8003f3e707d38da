import type { VmAgents } from './agents.js';
import type { FaultPlan } from './faults.js';
import type { QueryArgs } from './query.js';
import type { FakeEc2State } from './state.js';
import type { FakeScheduler } from '@slipway/simulation';
import type { XmlObject } from './xml.js';

/** Timings of the fake's asynchronous transitions, in ms. */
export interface FakeTimings {
  /** pending -> running. */
  pendingMs: number;
  /** shutting-down -> terminated. */
  shuttingDownMs: number;
  /** How long a terminated instance stays visible to DescribeInstances (about an hour on EC2). */
  terminatedRetentionMs: number;
  /** Volumes: creating -> available, attaching -> attached, detaching -> detached, deleting -> gone. */
  volumeMs: number;
  /** Snapshots pending -> completed; AMIs pending -> available. */
  snapshotMs: number;
  /** Volume modifications: modifying -> optimizing -> completed, each step. */
  modifyMs: number;
  /** A rebooted instance's agent is down this long. */
  rebootMs: number;
}

/**
 * EC2's eventual consistency: for `ms` after a resource is created, each request that names it (or lists it)
 * misses it with probability `missRate` (NotFound for ids, left out of lists) until one request has seen it:
 * the new id propagates through EC2, and once it has reached a reader it stays visible.
 */
export interface ConsistencyLag {
  ms: number;
  missRate: number;
}

/** What every action handler shares. */
export interface FakeContext {
  readonly state: FakeEc2State;
  readonly scheduler: FakeScheduler;
  readonly agents: VmAgents;
  readonly faults: FaultPlan;
  readonly timings: FakeTimings;
  readonly lag: ConsistencyLag;
  /** Launches that fail: the next instances go pending -> terminated with this state reason. */
  readonly launchFailures: Array<{ code: string; message: string }>;
  /** Requests seen per action (faulted ones included), for tests that count round trips. */
  readonly calls: Map<string, number>;
}

/** One EC2 action: reads its parameters, changes the state, answers the response body. */
export type ActionHandler = (args: QueryArgs, ctx: FakeContext) => XmlObject | Promise<XmlObject>;

/** Whether this request sees a resource, given the consistency lag. */
export function visible(ctx: FakeContext, resource: { createdAt: number; seen?: boolean }): boolean {
  if (resource.seen) return true;
  if (ctx.lag.ms <= 0 || Date.now() - resource.createdAt >= ctx.lag.ms || Math.random() >= ctx.lag.missRate) {
    resource.seen = true;
    return true;
  }
  return false;
}
