import { SlipwayError, type ErrorCode } from '@slipway/contracts';
import { header, type HttpResponse } from './transport.js';

/** The package name every error carries, so the task log says which plugin raised it. */
export const PLUGIN = '@slipway/iaas-azure';

/** The `{ error: { code, message, target, details } }` object ARM and every resource provider answer with. */
export interface ArmErrorBody {
  code: string;
  message: string;
  target?: string;
  details?: Array<{ code?: string; message?: string; target?: string }>;
}

/** An ARM refusal: an HTTP error response, or a long-running operation that ended Failed or Canceled. */
export interface ArmFault extends ArmErrorBody {
  /** The REST operation, named by its operationId in the Azure REST API reference (`VirtualMachines_CreateOrUpdate`). */
  operation: string;
  /** The HTTP status; absent when an operation failed after it was accepted. */
  status?: number;
  /** From `Retry-After` (seconds or an HTTP date), in ms. */
  retryAfterMs?: number;
  /** `x-ms-request-id` and `x-ms-correlation-request-id`: what Azure support asks for. */
  requestId?: string;
  correlationId?: string;
  /** Set when a long-running operation ended this way (the request itself was accepted). */
  operationStatus?: 'Failed' | 'Canceled';
}

/** Whether an error says a long-running operation ended Failed or Canceled (rather than a request failing). */
export function isOperationFailure(error: unknown): boolean {
  return SlipwayError.is(error) && error.details?.operationStatus !== undefined;
}

/** What the calling verb calls a permanent failure of its own kind. */
export type PermanentCode = Extract<ErrorCode, 'VmCreationFailed' | 'DiskError' | 'CloudError'>;

const THROTTLED = new Set([
  'TooManyRequests',
  'SubscriptionRequestsThrottled',
  'ResourceCollectionRequestsThrottled',
  'ResourceRequestsThrottled',
]);
/** Not enough hardware in the cluster right now: it clears with time, another zone or another size. */
const ALLOCATION = new Set([
  'AllocationFailed',
  'ZonalAllocationFailed',
  'OverconstrainedAllocationRequest',
  'OverconstrainedZonalAllocationRequest',
]);
const AUTHENTICATION = new Set([
  'InvalidAuthenticationToken',
  'ExpiredAuthenticationToken',
  'AuthenticationFailed',
  'InvalidAuthenticationTokenAudience',
  'InvalidAuthenticationTokenTenant',
]);
/** Another operation holds the resource: ARM answers 409 and the conflict clears when it finishes. */
const BUSY = new Set([
  'Conflict',
  'AnotherOperationInProgress',
  'OperationPreempted',
  'RetryableError',
  'ConcurrentRequestConflict',
]);
const API_VERSION = new Set([
  'MissingApiVersionParameter',
  'NoRegisteredProviderFound',
  'InvalidApiVersionParameter',
  'InvalidResourceType',
]);
const INTERNAL =
  /^(InternalServerError|InternalExecutionError|InternalOperationError|ServiceUnavailable|GatewayTimeout|ServerTimeout)$/;

/** Reads an ARM error response; a body that is not ARM's shape (a proxy's page) keeps its text. */
export function readArmFault(response: HttpResponse, operation: string): ArmFault {
  const body = parseArmError(response.text);
  return {
    operation,
    status: response.status,
    code: body?.code ?? `HTTP${response.status}`,
    message: body?.message ?? (response.text.trim().slice(0, 500) || `HTTP ${response.status}`),
    ...(body?.target ? { target: body.target } : {}),
    ...(body?.details ? { details: body.details } : {}),
    ...retryAfterOf(response),
    ...idsOf(response),
  };
}

/** The `error` object of an ARM error body (or of a Failed operation status), if the text holds one. */
export function parseArmError(text: string): ArmErrorBody | undefined {
  const parsed = parseJson(text) as { error?: unknown } | undefined;
  return armErrorOf(parsed?.error);
}

export function armErrorOf(value: unknown): ArmErrorBody | undefined {
  const error = value as Partial<ArmErrorBody> | undefined;
  if (!error || typeof error !== 'object' || typeof error.code !== 'string') return undefined;
  return {
    code: error.code,
    message: typeof error.message === 'string' ? error.message : error.code,
    ...(typeof error.target === 'string' ? { target: error.target } : {}),
    ...(Array.isArray(error.details) ? { details: error.details } : {}),
  };
}

/** `Retry-After` in seconds or as an HTTP date (ARM sends seconds; proxies may send dates), in ms. */
export function retryAfterOf(response: Pick<HttpResponse, 'headers'>): { retryAfterMs?: number } {
  const value = header(response.headers, 'retry-after');
  if (value === undefined) return {};
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return { retryAfterMs: seconds * 1000 };
  const date = Date.parse(value);
  return Number.isNaN(date) ? {} : { retryAfterMs: Math.max(0, date - Date.now()) };
}

function idsOf(response: HttpResponse): { requestId?: string; correlationId?: string } {
  const requestId = header(response.headers, 'x-ms-request-id');
  const correlationId = header(response.headers, 'x-ms-correlation-request-id');
  return { ...(requestId ? { requestId } : {}), ...(correlationId ? { correlationId } : {}) };
}

/**
 * The one place ARM errors become SlipwayErrors. The error code decides where it is specific (quota, capacity,
 * throttling), the HTTP status otherwise; a failed long-running operation has only its code. The message keeps
 * Azure's own words: `VirtualMachines_CreateOrUpdate: 400 InvalidParameter: <Azure's message>`.
 */
export function faultToError(fault: ArmFault, permanent: PermanentCode = 'CloudError'): SlipwayError {
  const message = `${fault.operation}: ${fault.status !== undefined ? `${fault.status} ` : ''}${fault.operationStatus ? `operation ${fault.operationStatus}: ` : ''}${fault.code}: ${fault.message}${fault.target ? ` (target: ${fault.target})` : ''}`;
  const details: Record<string, unknown> = {
    operation: fault.operation,
    ...(fault.status !== undefined ? { status: fault.status } : {}),
    cloudCode: fault.code,
    cloudMessage: fault.message,
    ...(fault.target ? { target: fault.target } : {}),
    ...(fault.requestId ? { cloudRequestId: fault.requestId } : {}),
    ...(fault.correlationId ? { correlationId: fault.correlationId } : {}),
    ...(fault.operationStatus ? { operationStatus: fault.operationStatus } : {}),
  };
  const base = { plugin: PLUGIN, details, cause: fault };
  const { status, code } = fault;
  if (code === 'QuotaExceeded' || (code === 'OperationNotAllowed' && /quota/i.test(fault.message))) {
    return new SlipwayError('QuotaExceeded', message, {
      ...base,
      hint: 'Delete unused VMs or disks in the subscription, or request a quota increase for the region (Azure portal > Quotas).',
    });
  }
  if (status === 429 || THROTTLED.has(code)) {
    return new SlipwayError('RateLimited', message, { ...base, retryAfterMs: fault.retryAfterMs });
  }
  if (status === 401 || AUTHENTICATION.has(code)) {
    return new SlipwayError('Unauthenticated', message, {
      ...base,
      hint: 'Check tenant_id, client_id and client_secret in the credential that credentials_ref names.',
    });
  }
  if (code === 'SkuNotAvailable') {
    return new SlipwayError('CapacityExhausted', message, {
      ...base,
      hint: 'This VM size is not offered in the region or zone for the subscription; pick another instance_type or zone (az vm list-skus).',
    });
  }
  if (ALLOCATION.has(code)) {
    return new SlipwayError('CapacityExhausted', message, {
      ...base,
      retryable: true,
      hint: 'Azure has no capacity for this size right now; it usually clears. Another zone or size helps sooner.',
    });
  }
  if (code === 'ResourceGroupNotFound') {
    return new SlipwayError('InvalidConfig', message, {
      ...base,
      field: 'resource_group',
      hint: 'Create the resource group (az group create) or fix resource_group in slipway.yaml.',
    });
  }
  if (code === 'SubscriptionNotFound') {
    return new SlipwayError('InvalidConfig', message, { ...base, field: 'subscription_id' });
  }
  if (API_VERSION.has(code)) {
    return new SlipwayError('CloudError', message, {
      ...base,
      hint: 'This cloud does not offer the api-version the driver speaks (an older Azure Stack Hub?); see the driver README for the versions it needs.',
    });
  }
  if (status === 404 || code === 'ResourceNotFound' || code === 'NotFound')
    return new SlipwayError('NotFound', message, base);
  if (status === 412)
    return new SlipwayError('Conflict', message, {
      ...base,
      retryable: true,
      hint: 'The resource changed between read and write; the engine retries.',
    });
  if (BUSY.has(code)) return new SlipwayError('Conflict', message, { ...base, retryable: true });
  if (status === 409 || code === 'OperationNotAllowed') return new SlipwayError('Conflict', message, base);
  if ((status !== undefined && status >= 500 && status !== 501) || INTERNAL.test(code)) {
    return new SlipwayError('Retryable', message, { ...base, retryAfterMs: fault.retryAfterMs });
  }
  if (status === 403) {
    return new SlipwayError('CloudError', message, {
      ...base,
      hint: 'The service principal lacks a role on the resource group; assign it Contributor (or Virtual Machine Contributor plus Network Contributor).',
    });
  }
  return new SlipwayError(permanent, message, base);
}

/** An Entra ID token endpoint refusal: `{ error, error_description, error_codes }`. */
export function entraError(response: HttpResponse): SlipwayError {
  const body = parseJson(response.text) as
    | { error?: unknown; error_description?: unknown; error_codes?: unknown }
    | undefined;
  const code = typeof body?.error === 'string' ? body.error : `HTTP${response.status}`;
  // The description's first line carries the AADSTS code and its meaning; the rest is trace and correlation ids.
  const description =
    typeof body?.error_description === 'string' ? body.error_description : response.text.slice(0, 300);
  const message = `Entra ID token request: ${response.status} ${code}: ${description.split(/\r?\n/)[0]}`;
  const details = {
    status: response.status,
    cloudCode: code,
    cloudMessage: description,
    ...(Array.isArray(body?.error_codes) ? { errorCodes: body.error_codes } : {}),
  };
  if (response.status === 429)
    return new SlipwayError('RateLimited', message, { plugin: PLUGIN, details, ...retryAfterOf(response) });
  if (response.status >= 500)
    return new SlipwayError('Retryable', message, { plugin: PLUGIN, details, ...retryAfterOf(response) });
  return new SlipwayError('Unauthenticated', message, {
    plugin: PLUGIN,
    details,
    hint: "Check tenant_id, client_id and client_secret (the secret's value, not its id) in the credential that credentials_ref names.",
  });
}

/** TLS verification failures: the endpoint's certificate is not trusted, which waiting does not fix. */
const UNTRUSTED = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'CERT_UNTRUSTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** Errors of the request itself: aborts become `Cancelled`, an untrusted certificate `InvalidConfig`, connection failures `Retryable`. */
export function transportError(error: unknown, operation: string, target: string, signal?: AbortSignal): SlipwayError {
  if (SlipwayError.is(error)) return error;
  if (signal?.aborted || (error as { name?: unknown })?.name === 'AbortError') return cancelled(signal, error);
  const reason = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown })?.code;
  if (typeof code === 'string' && UNTRUSTED.has(code)) {
    return new SlipwayError('InvalidConfig', `${operation}: the certificate of ${target} is not trusted: ${reason}`, {
      plugin: PLUGIN,
      cause: error,
      field: 'ca_cert',
      details: { operation, tlsCode: code },
      hint: "For an endpoint with a private CA (Azure Stack Hub), put that CA's PEM in ca_cert.",
    });
  }
  return new SlipwayError('Retryable', `${operation}: cannot reach ${target}: ${reason}`, {
    plugin: PLUGIN,
    cause: error,
    details: { operation },
  });
}

export function cancelled(signal?: AbortSignal, cause?: unknown): SlipwayError {
  return new SlipwayError('Cancelled', 'the operation was aborted', { plugin: PLUGIN, cause: signal?.reason ?? cause });
}

export function cancelledIf(signal?: AbortSignal): void {
  if (signal?.aborted) throw cancelled(signal);
}

function parseJson(text: string): unknown {
  if (!text.trimStart().startsWith('{')) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
