import type { IncomingMessage } from 'node:http';
import type { VmAgents } from './agents.js';
import type { FaultPlan } from './faults.js';
import type { FakeOperations } from './operations.js';
import type { FakeGceState, FakeToken } from './state.js';
import type { FakeScheduler } from '@slipway/simulation';

/** Timings of the fake's asynchronous transitions, in ms. */
export interface FakeTimings {
  /** An operation's PENDING -> RUNNING. */
  pendingMs: number;
  /** instances.insert until RUNNING and DONE (PROVISIONING -> STAGING -> RUNNING). */
  buildMs: number;
  /** Every other operation (delete, reset, attach, resize, snapshot...), and STOPPING -> TERMINATED. */
  transitionMs: number;
  /** images.insert until READY. */
  imageMs: number;
  /** How long zoneOperations.wait holds a request for an operation that is not DONE (GCE: two minutes). */
  waitTimeoutMs: number;
  /** Lifetime of an access token, seconds (`expires_in`). */
  tokenTtlSeconds: number;
}

/** What every route handler shares. */
export interface FakeContext {
  readonly state: FakeGceState;
  readonly scheduler: FakeScheduler;
  readonly agents: VmAgents;
  readonly faults: FaultPlan;
  readonly operations: FakeOperations;
  readonly timings: FakeTimings;
  /** Requests seen per method (faulted ones included), for tests that count round trips. */
  readonly calls: Map<string, number>;
  /** `http://127.0.0.1:PORT`, known once the server listens. */
  baseUrl: string;
}

export interface RouteCall {
  /** The project in the path (the fake's own, or its public image project for reads). */
  project: string;
  params: string[];
  query: URLSearchParams;
  body: Record<string, unknown>;
  token: FakeToken;
  /** The validated `requestId` of a mutation, if the client sent one. */
  requestId?: string;
  req: IncomingMessage;
}

export interface Reply {
  status: number;
  body: unknown;
}

export interface Route {
  http: 'GET' | 'POST' | 'DELETE';
  /** Matched against the path below `/compute/v1/projects/{project}`; groups become `params`. */
  path: RegExp;
  /** The API reference's method name (`instances.insert`), which faults aim at. */
  method: string;
  /** Starts an operation: takes a `requestId` and answers a repeat with the first operation. */
  mutation?: boolean;
  /** Readable in the public image project too. */
  publicImages?: boolean;
  handle(call: RouteCall): Reply | Promise<Reply>;
}

/** `${baseUrl}/compute/v1/projects/${project}/${path}`: a resource's selfLink. */
export function link(ctx: FakeContext, path: string, project = ctx.state.project): string {
  return `${ctx.baseUrl}/compute/v1/projects/${project}/${path}`;
}
