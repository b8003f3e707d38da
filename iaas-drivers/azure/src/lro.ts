import { SlipwayError, type Clock } from '@slipway/contracts';
import type { ArmClient, ArmResponse, HttpMethod } from './arm.js';
import {
  PLUGIN,
  armErrorOf,
  cancelledIf,
  faultToError,
  retryAfterOf,
  type ArmFault,
  type PermanentCode,
} from './errors.js';
import { header } from './transport.js';

/** The terminal states of an Azure-AsyncOperation status, and of a resource's provisioningState. */
export type OperationStatus = 'Succeeded' | 'Failed' | 'Canceled';
const TERMINAL: ReadonlySet<string> = new Set<OperationStatus>(['Succeeded', 'Failed', 'Canceled']);

export interface LroContext {
  readonly arm: ArmClient;
  readonly clock: Clock;
  /** Between polls when Azure sends no Retry-After. */
  readonly pollIntervalMs: number;
}

export interface LroRequest {
  operation: string;
  method: HttpMethod;
  /** The resource the operation acts on: read again after a PUT or PATCH succeeds. */
  resourcePath: string;
  apiVersion: string;
  signal?: AbortSignal;
  /** The verb's code for an operation that ended Failed. */
  permanent?: PermanentCode;
}

interface OperationStatusBody {
  status?: string;
  error?: unknown;
}

interface ProvisionedBody {
  properties?: { provisioningState?: string };
}

/**
 * Follows an accepted ARM request to its end, the three ways ARM offers, in its order of precedence:
 * - `Azure-AsyncOperation`: poll that URL until `status` is Succeeded, Failed or Canceled, then (PUT, PATCH)
 *   read the resource for its final state;
 * - `Location`: poll it while it answers 202; 200 or 204 means done, an error status is the failure;
 * - neither (a PUT answered 200/201 with a non-terminal `provisioningState`): poll the resource itself.
 * Every wait honours `Retry-After` and the signal. Following an operation is not a retry; there is no deadline
 * here because the engine bounds every call with its signal.
 */
export async function completeOperation<T>(
  ctx: LroContext,
  initial: ArmResponse<T>,
  req: LroRequest,
): Promise<T | undefined> {
  const asyncUrl = header(initial.headers, 'azure-asyncoperation');
  const location = header(initial.headers, 'location');
  if (asyncUrl) return followAsyncOperation(ctx, initial, asyncUrl, req);
  if (location && initial.status === 202) return followLocation(ctx, initial, location, req);
  if (
    (req.method === 'PUT' || req.method === 'PATCH') &&
    initial.body &&
    !isTerminal(initial.body as ProvisionedBody)
  ) {
    return followResource(ctx, initial, req);
  }
  return initial.body;
}

async function followAsyncOperation<T>(
  ctx: LroContext,
  initial: ArmResponse<T>,
  url: string,
  req: LroRequest,
): Promise<T | undefined> {
  let previous: ArmResponse<unknown> = initial;
  for (;;) {
    await wait(ctx, previous, req.signal);
    const polled = await ctx.arm.request<OperationStatusBody>({
      operation: `${req.operation} (operation status)`,
      path: url,
      apiVersion: req.apiVersion,
      signal: req.signal,
    });
    const status = polled?.body?.status;
    if (status === 'Succeeded') break;
    if (status === 'Failed' || status === 'Canceled') throw operationFailed(req, status, polled?.body?.error);
    previous = polled!;
  }
  if (req.method === 'DELETE' || req.method === 'POST') return undefined;
  const final = await ctx.arm.request<T>({
    operation: req.operation.replace(/_\w+$/, '_Get'),
    path: req.resourcePath,
    apiVersion: req.apiVersion,
    signal: req.signal,
    notFoundOk: true,
  });
  if (!final) throw disappeared(req);
  return final.body;
}

async function followLocation<T>(
  ctx: LroContext,
  initial: ArmResponse<T>,
  url: string,
  req: LroRequest,
): Promise<T | undefined> {
  let previous: ArmResponse<unknown> = initial;
  for (;;) {
    await wait(ctx, previous, req.signal);
    let polled: ArmResponse<T> | undefined;
    try {
      polled = await ctx.arm.request<T>({
        operation: `${req.operation} (operation result)`,
        path: url,
        apiVersion: req.apiVersion,
        signal: req.signal,
        permanent: req.permanent,
      });
    } catch (error) {
      throw locationFailure(error, req);
    }
    if (polled?.status !== 202) return polled?.body;
    previous = polled;
  }
}

async function followResource<T>(ctx: LroContext, initial: ArmResponse<T>, req: LroRequest): Promise<T | undefined> {
  let previous: ArmResponse<unknown> = initial;
  for (;;) {
    await wait(ctx, previous, req.signal);
    const polled = await ctx.arm.request<T>({
      operation: req.operation.replace(/_\w+$/, '_Get'),
      path: req.resourcePath,
      apiVersion: req.apiVersion,
      signal: req.signal,
      notFoundOk: true,
    });
    if (!polled) throw disappeared(req);
    const state = (polled.body as ProvisionedBody | undefined)?.properties?.provisioningState;
    if (state === 'Failed' || state === 'Canceled') throw operationFailed(req, state, undefined);
    if (isTerminal(polled.body as ProvisionedBody)) return polled.body;
    previous = polled;
  }
}

function isTerminal(body: ProvisionedBody | undefined): boolean {
  const state = body?.properties?.provisioningState;
  return state === undefined || TERMINAL.has(state);
}

function operationFailed(req: LroRequest, status: 'Failed' | 'Canceled', error: unknown) {
  const body = armErrorOf(error);
  return faultToError(
    {
      operation: req.operation,
      operationStatus: status,
      code: body?.code ?? (status === 'Canceled' ? 'OperationCanceled' : 'OperationFailed'),
      message: body?.message ?? `the operation ended ${status} without an error`,
      ...(body?.target ? { target: body.target } : {}),
      ...(body?.details ? { details: body.details } : {}),
    },
    req.permanent,
  );
}

/**
 * A failed operation answers its Location URL with the failure's status and error body. A 4xx other than
 * 401, 408 and 429 is that failure; a 5xx or a throttled poll could be the poll's own, and stays as it is.
 */
function locationFailure(error: unknown, req: LroRequest): unknown {
  const fault = SlipwayError.is(error) ? (error.cause as ArmFault | undefined) : undefined;
  if (!fault?.status || fault.status < 400 || fault.status >= 500 || [401, 408, 429].includes(fault.status))
    return error;
  return faultToError({ ...fault, operation: req.operation, operationStatus: 'Failed' }, req.permanent);
}

/** The resource was deleted while its create or update ran (behind our back, or by a preempting delete). */
function disappeared(req: LroRequest): SlipwayError {
  return new SlipwayError(
    req.permanent ?? 'CloudError',
    `${req.operation}: ${req.resourcePath} disappeared while its operation ran`,
    {
      plugin: PLUGIN,
      retryable: true,
      details: { operation: req.operation },
    },
  );
}

/** Sleeps for the Retry-After of the last response, or the configured interval. */
async function wait(ctx: LroContext, last: Pick<ArmResponse<unknown>, 'headers'>, signal?: AbortSignal): Promise<void> {
  cancelledIf(signal);
  const ms = retryAfterOf(last).retryAfterMs ?? ctx.pollIntervalMs;
  try {
    await ctx.clock.sleep(ms, signal);
  } catch {
    // A clock may reject when the signal fires; the check below says so.
  }
  cancelledIf(signal);
}
