import type { RegistryFakeFaults, RegistryVerb } from '@slipway/simulation';
import { HarborHttpError } from './http.js';

/** The Harbor operation each contract verb is sure to make first or alone, so a fault aimed at a verb reaches it. */
export const VERB_OPERATIONS: Readonly<Record<RegistryVerb, string>> = Object.freeze({
  info: 'getHealth',
  ensureProject: 'createProject',
  ensureRobot: 'createRobot',
  rotateRobotSecret: 'refreshSec',
  deleteRobot: 'deleteRobot',
  deleteProject: 'deleteProject',
  listProjects: 'listProjects',
});

/** Throttling as a proxy in front of Harbor answers it (Harbor itself has no rate limiter). */
export const throttled = () =>
  new HarborHttpError(429, 'too many requests, slow down', 'TOO_MANY_REQUESTS', { 'retry-after': '1' });
export const serverError = () =>
  new HarborHttpError(500, 'internal server error: failed to connect to the database', 'UNKNOWN');

/** Queued faults by Harbor operation, random rates, and latency. */
export class FaultPlan implements RegistryFakeFaults {
  private readonly queued = new Map<string, Array<() => HarborHttpError>>();
  private rates = { throttle: 0, serverError: 0 };
  latencyMs = 0;

  /** The next `count` requests of a Harbor operation (`createProject`, `refreshSec`...) answer `error`. */
  failNext(operation: string, error: { status: number; message?: string; code?: string }, count = 1): void {
    this.enqueue(
      operation,
      () => new HarborHttpError(error.status, error.message ?? `injected ${error.status}`, error.code),
      count,
    );
  }

  throttleNext(verb: RegistryVerb, count = 1): void {
    this.enqueue(VERB_OPERATIONS[verb], throttled, count);
  }

  serverErrorNext(verb: RegistryVerb, count = 1): void {
    this.enqueue(VERB_OPERATIONS[verb], serverError, count);
  }

  setFaultRates(rates: { throttle?: number; serverError?: number }): void {
    this.rates = { throttle: rates.throttle ?? 0, serverError: rates.serverError ?? 0 };
  }

  setLatency(ms: number): void {
    this.latencyMs = ms;
  }

  reset(): void {
    this.queued.clear();
    this.rates = { throttle: 0, serverError: 0 };
    this.latencyMs = 0;
  }

  /** The fault this request gets, if any: a queued one for its operation first, then the random rates. */
  take(operation: string): HarborHttpError | undefined {
    const list = this.queued.get(operation);
    const make = list?.shift();
    if (list && list.length === 0) this.queued.delete(operation);
    if (make) return make();
    const roll = Math.random();
    if (roll < this.rates.throttle) return throttled();
    if (roll < this.rates.throttle + this.rates.serverError) return serverError();
    return undefined;
  }

  private enqueue(operation: string, make: () => HarborHttpError, count: number): void {
    const list = this.queued.get(operation) ?? [];
    for (let i = 0; i < count; i++) list.push(make);
    this.queued.set(operation, list);
  }
}
