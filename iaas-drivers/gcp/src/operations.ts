import { SlipwayError } from '@slipway/contracts';
import type { ComputeClient } from './client.js';
import { operationFaultToError, type PermanentCode } from './errors.js';
import { lastSegment, uuidV5 } from './names.js';
import type { Operation } from './resources.js';

/**
 * GCE's `requestId` for a Slipway request id. GCE answers a repeated requestId with the operation of the
 * first request for at least an hour, even when that operation failed: the engine's retry after a failed
 * operation would get the same failure back. So the derived id has a generation, moved on when this driver
 * sees an operation of the current generation fail. Generations are deterministic, so after a control-plane
 * restart the same sequence is walked again and finds the same operations (a failure already reported
 * before the restart is reported once more, then left behind).
 */
export class RequestIdLedger {
  private readonly generations = new Map<string, number>();

  /** The requestId to send now for `key` (a verb, its scope and Slipway's request id). */
  current(key: string): string {
    return uuidV5(`${key}#${this.generations.get(key) ?? 0}`);
  }

  /** The operation sent with `requestId` failed: the next call for `key` starts a fresh GCE request. */
  failed(key: string, requestId: string): void {
    if (this.current(key) === requestId) this.generations.set(key, (this.generations.get(key) ?? 0) + 1);
  }
}

export interface MutationOptions {
  /** The REST method that starts the operation (`instances.insert`), for errors. */
  method: string;
  permanent: PermanentCode;
  /** Scope + Slipway request id; absent when the caller gave no request id. */
  idempotencyKey?: string;
  signal?: AbortSignal;
  /** Sends the request with the given `requestId` query parameter (or none) and returns its Operation. */
  send(requestId: string | undefined): Promise<Operation>;
}

/**
 * Starts a mutation and waits for its Operation to be DONE, with `zoneOperations.wait` (or
 * `globalOperations.wait`): GCE holds each wait for up to two minutes and answers as soon as the operation
 * is DONE, so waiting costs one request per operation instead of a polling loop. The fetch of every wait
 * carries the caller's signal, so an abort stops the wait at once. Following an operation is not a retry.
 */
export class OperationRunner {
  constructor(
    private readonly client: ComputeClient,
    private readonly ledger: RequestIdLedger = new RequestIdLedger(),
  ) {}

  async run(options: MutationOptions): Promise<Operation> {
    const requestId = options.idempotencyKey ? this.ledger.current(options.idempotencyKey) : undefined;
    const started = await options.send(requestId);
    const done = await this.wait(started, options.signal);
    if (done.error?.errors?.length || done.httpErrorStatusCode) {
      if (options.idempotencyKey && requestId) this.ledger.failed(options.idempotencyKey, requestId);
      throw operationFaultToError(
        {
          method: options.method,
          operation: done.name,
          errors: done.error?.errors ?? [],
          httpErrorStatusCode: done.httpErrorStatusCode,
          httpErrorMessage: done.httpErrorMessage,
        },
        options.permanent,
      );
    }
    return done;
  }

  /** Waits until `operation` is DONE (whether it failed or not). */
  async wait(operation: Operation, signal?: AbortSignal): Promise<Operation> {
    let current = operation;
    while (current.status !== 'DONE') {
      const scope = current.zone
        ? `/zones/${lastSegment(current.zone)}`
        : current.region
          ? `/regions/${lastSegment(current.region)}`
          : '/global';
      const kind = current.zone ? 'zoneOperations' : current.region ? 'regionOperations' : 'globalOperations';
      const next = await this.client.request<Operation>({
        method: `${kind}.wait`,
        http: 'POST',
        path: this.client.projectPath(`${scope}/operations/${encodeURIComponent(current.name)}/wait`),
        signal,
      });
      if (!next?.status)
        throw new SlipwayError(
          'CloudError',
          `compute ${kind}.wait answered without an operation status for ${current.name}`,
        );
      current = next;
    }
    return current;
  }
}
