import { NsxApiError, throttled, unavailable } from './errors.js';

/** The Policy operation behind each network contract verb, for faults aimed by verb. */
export const OPERATION_OF_VERB: Record<string, string> = {
  prepareCluster: 'patchInfra',
  allocateAddress: 'patchIpAllocation',
  releaseAddress: 'deleteIpAllocation',
  listAllocations: 'listIpAllocations',
  ensureApiEndpoint: 'getLbVirtualServer',
  teardownCluster: 'deleteTier1',
  listClusterObjects: 'searchQuery',
};

/** An error a test asks for by operation. */
export interface InjectedError {
  status: number;
  message: string;
  errorCode?: number;
  retryAfter?: number;
}

/** Queued faults by operation, random rates over every Policy request, added latency. */
export class FaultPlan {
  private readonly queued = new Map<string, Array<() => NsxApiError>>();
  private rates = { throttle: 0, serverError: 0 };
  latencyMs = 0;
  retryAfterSeconds = 1;

  enqueue(operationOrVerb: string, make: () => NsxApiError, count = 1): void {
    const operation = OPERATION_OF_VERB[operationOrVerb] ?? operationOrVerb;
    const list = this.queued.get(operation) ?? [];
    for (let i = 0; i < count; i++) list.push(make);
    this.queued.set(operation, list);
  }

  throttle(operation: string, count = 1): void {
    this.enqueue(operation, () => throttled('admin', this.retryAfterSeconds), count);
  }
  serverError(operation: string, count = 1): void {
    this.enqueue(operation, unavailable, count);
  }

  injected(operation: string, error: InjectedError, count = 1): void {
    const headers: Record<string, string> =
      error.retryAfter !== undefined ? { 'retry-after': String(error.retryAfter) } : {};
    this.enqueue(
      operation,
      () => new NsxApiError(error.status, error.errorCode ?? error.status, error.message, 'policy', [], headers),
      count,
    );
  }

  setRates(rates: { throttle?: number; serverError?: number }): void {
    this.rates = { throttle: rates.throttle ?? 0, serverError: rates.serverError ?? 0 };
  }

  take(operation: string): NsxApiError | undefined {
    const list = this.queued.get(operation);
    const make = list?.shift();
    if (list && list.length === 0) this.queued.delete(operation);
    if (make) return make();
    const roll = Math.random();
    if (roll < this.rates.throttle) return throttled('admin', this.retryAfterSeconds);
    if (roll < this.rates.throttle + this.rates.serverError) return unavailable();
    return undefined;
  }

  reset(): void {
    this.queued.clear();
    this.rates = { throttle: 0, serverError: 0 };
    this.latencyMs = 0;
  }
}
