import type { IncomingMessage } from 'node:http';
import type { VmAgents } from './agents.js';
import type { Schedule } from './api-versions.js';
import type { FaultPlan } from './faults.js';
import type { OperationRegistry } from './operations.js';
import type { FakeAzureState, FakeToken } from './state.js';
import type { FakeScheduler } from '@slipway/simulation';

/** Timings of the fake's asynchronous transitions, in ms. */
export interface FakeTimings {
  /** A VM's Creating -> Succeeded. */
  provisionMs: number;
  /** Every other operation: NICs, disks, snapshots, images, attaches, deletes, restarts. */
  transitionMs: number;
  /** Lifetime of the tokens the Entra endpoint issues. */
  tokenTtlMs: number;
}

/** Which header a long-running operation is announced with; by default the one each RP uses, see operations.ts. */
export type LroStyle = 'azure-asyncoperation' | 'location';

/** How an operation the fake accepted ends when a failure is queued for it. */
export interface InjectedOperationFailure {
  code: string;
  message: string;
  /** The status a Location poll answers with; default 400. */
  status?: number;
}

/** What every route handler shares. */
export interface FakeContext {
  readonly state: FakeAzureState;
  readonly scheduler: FakeScheduler;
  readonly agents: VmAgents;
  readonly faults: FaultPlan;
  readonly timings: FakeTimings;
  readonly operations: OperationRegistry;
  readonly lro: { style?: LroStyle; retryAfterSeconds?: number; failures: Map<string, InjectedOperationFailure[]> };
  /** Requests seen per operation (faulted ones included), for tests that count round trips. */
  readonly calls: Map<string, number>;
  /** Items per page of a list before ARM gives a nextLink. */
  readonly listPageSize: number;
  /** `https://127.0.0.1:PORT`, known once the server listens. */
  baseUrl: string;
}

export interface RouteCall {
  params: string[];
  query: URLSearchParams;
  body: Record<string, unknown>;
  req: IncomingMessage;
  token?: FakeToken;
  apiVersion: string;
}

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface Route {
  method: 'GET' | 'PUT' | 'PATCH' | 'POST' | 'DELETE';
  /** Matched case-insensitively against the whole path (ARM paths are case-insensitive); groups become `params`. */
  path: RegExp;
  /** The operationId of the Azure REST API reference, which faults aim at. */
  operation: string;
  /** The api-version schedule the route checks; absent for Entra's token endpoint, which has none. */
  schedule?: Schedule;
  /** `Microsoft.Compute/virtualMachines`, for api-version errors. */
  resourceType?: string;
  handle(call: RouteCall): Reply | Promise<Reply>;
}

/** `([^/]+)` for a path segment. */
export const SEGMENT = '([^/]+)';

/** A route path under the fake's resource group: `/subscriptions/{sub}/resourceGroups/{rg}/providers/...`. */
export function groupPath(rest: string): RegExp {
  return new RegExp(`^/subscriptions/${SEGMENT}/resourceGroups/${SEGMENT}/providers/${rest}$`, 'i');
}

/** A route path under the subscription: `/subscriptions/{sub}/providers/...`. */
export function subscriptionPath(rest: string): RegExp {
  return new RegExp(`^/subscriptions/${SEGMENT}/providers/${rest}$`, 'i');
}
