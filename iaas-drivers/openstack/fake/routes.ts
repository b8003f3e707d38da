import type { IncomingMessage } from 'node:http';
import type { VmAgents } from './agents.js';
import type { FaultPlan } from './faults.js';
import type { FakeService } from './http.js';
import type { FakeCloudState, FakeToken } from './state.js';
import type { FakeScheduler } from '@slipway/simulation';

/** Timings of the fake's asynchronous transitions, in ms. */
export interface FakeTimings {
  /** BUILD -> ACTIVE. */
  buildMs: number;
  /** Every other transition: creating -> available, attaching -> in-use, deleting -> gone, HARD_REBOOT -> ACTIVE. */
  transitionMs: number;
  /** How long a deleted server keeps answering with status DELETED before it is gone (404). */
  deletedRetentionMs: number;
  /** Keystone token lifetime. */
  tokenTtlMs: number;
}

/** What every route handler shares. */
export interface FakeContext {
  readonly state: FakeCloudState;
  readonly scheduler: FakeScheduler;
  readonly agents: VmAgents;
  readonly faults: FaultPlan;
  readonly timings: FakeTimings;
  /** Servers whose build fails: the next creates go to ERROR with this fault. */
  readonly buildFailures: Array<{ code: number; message: string }>;
  /** Requests seen per operation (faulted ones included), for tests that count round trips. */
  readonly calls: Map<string, number>;
  /** `http://127.0.0.1:PORT`, known once the server listens. */
  baseUrl: string;
}

/** A parsed API version (`2.79`). */
export interface Microversion {
  major: number;
  minor: number;
}

export interface RouteCall {
  params: string[];
  query: URLSearchParams;
  body: Record<string, unknown>;
  req: IncomingMessage;
  token?: FakeToken;
  version: Microversion;
}

export interface Reply {
  status: number;
  body?: unknown;
  /** A non-JSON body (metadata service). */
  text?: string;
  contentType?: string;
  headers?: Record<string, string>;
}

export interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Matched against the path below the service prefix; groups become `params`. */
  path: RegExp;
  /** The API reference name, which faults aim at; server and volume actions are named by their body. */
  operation: string | ((body: Record<string, unknown>) => string);
  /** The handler reads the request stream itself (image upload). */
  rawBody?: boolean;
  /** Needs no token (Keystone's own auth, the metadata service). */
  anonymous?: boolean;
  handle(call: RouteCall): Reply | Promise<Reply>;
}

/** A service mounted under a path prefix. */
export interface ServiceMount {
  service: FakeService;
  /** Matches the prefix; groups (e.g. the project id in Cinder's URL) become the first params. */
  prefix: RegExp;
  routes: Route[];
  /** Microversion negotiation, when the service has it. */
  versions?: { header: string; min: Microversion; max: Microversion; legacyHeader?: string };
}

export function atLeast(version: Microversion, major: number, minor: number): boolean {
  return version.major > major || (version.major === major && version.minor >= minor);
}
