import type { MoRef } from '../src/soap.js';
import { child, children, type XmlElement } from '../src/xml.js';
import type { VmAgents } from './agents.js';
import type { SoapRequest } from './envelope.js';
import { VimFaultError, type FaultPlan } from './faults.js';
import type { FakeInventory, FakeSession } from './state.js';
import type { TaskRunner } from './tasks.js';
import type { FakeScheduler } from '@slipway/simulation';

/** How long the fake's asynchronous work takes, in ms. */
export interface FakeTimings {
  /** Every task but clones: queued -> running -> success. */
  taskMs: number;
  /** CloneVM_Task. */
  cloneMs: number;
  /** A session unused this long is gone (vCenter's default is 30 minutes). */
  sessionIdleMs: number;
}

/** A clone as the fake saw it, for tests that check how VMs were made. */
export interface CloneRecord {
  name: string;
  source: string;
  diskMoveType?: string;
  snapshot?: string;
  template: boolean;
}

/** What every method handler shares. */
export interface FakeContext {
  readonly inventory: FakeInventory;
  readonly tasks: TaskRunner;
  readonly scheduler: FakeScheduler;
  readonly faults: FaultPlan;
  readonly agents: VmAgents;
  readonly timings: FakeTimings;
  /** Requests seen per vim25 method (faulted ones included). */
  readonly calls: Map<string, number>;
  readonly clones: CloneRecord[];
  /** SOAPAction versions clients sent. */
  readonly apiVersions: Set<string>;
}

/** One method call: the request and the caller's session (absent for the methods that need none). */
export interface MethodCall {
  readonly request: SoapRequest;
  readonly session?: FakeSession;
}

export interface MethodReply {
  /** The inner XML of `<MethodResponse>`: usually `<returnval …>…</returnval>`, empty for void methods. */
  body: string;
  headers?: Record<string, string>;
}

export interface MethodHandler {
  /** Needs no session (RetrieveServiceContent, Login). */
  anonymous?: boolean;
  handle(ctx: FakeContext, call: MethodCall): MethodReply | Promise<MethodReply>;
}

/** The argument of that name, or InvalidRequest as vCenter's deserializer answers a missing required one. */
export function arg(call: MethodCall, name: string): XmlElement {
  const found = call.request.args.find((a) => a.name === name);
  if (!found) throw new VimFaultError('InvalidRequest', `Required parameter ${name} is missing`);
  return found;
}

export function optionalArg(call: MethodCall, name: string): XmlElement | undefined {
  return call.request.args.find((a) => a.name === name);
}

export function argText(call: MethodCall, name: string): string {
  return arg(call, name).text;
}

export function refOf(element: XmlElement | undefined): MoRef | undefined {
  return element?.attrs.type ? { type: element.attrs.type, value: element.text } : undefined;
}

export function childRef(element: XmlElement | undefined, name: string): MoRef | undefined {
  return refOf(child(element, name));
}

export function childBool(element: XmlElement | undefined, name: string): boolean | undefined {
  const value = child(element, name)?.text;
  return value === undefined ? undefined : value === 'true' || value === '1';
}

export function childNumber(element: XmlElement | undefined, name: string): number | undefined {
  const value = child(element, name)?.text;
  return value === undefined ? undefined : Number(value);
}

export { child, children };
