import { SlipwayError, type ErrorCode } from '@slipway/contracts';

/** The package name every error carries, so the task log says which plugin raised it. */
export const PLUGIN = '@slipway/iaas-gcp';

/** The Google endpoints the driver talks to. */
export type GoogleApi = 'compute' | 'oauth2';

/**
 * An error response of a Google API. Compute answers `{"error": {code, message, errors: [{reason, domain,
 * message}], status}}`; the OAuth2 token endpoint answers `{"error": "invalid_grant", "error_description"}`.
 */
export interface GoogleFault {
  api: GoogleApi;
  /** The REST method, named as in the API reference (`instances.insert`, `zoneOperations.wait`, `token`). */
  method: string;
  status: number;
  /** `errors[0].reason` (`notFound`, `rateLimitExceeded`...) or the OAuth2 `error` code (`invalid_grant`). */
  reason?: string;
  domain?: string;
  /** The canonical status name (`NOT_FOUND`, `RESOURCE_EXHAUSTED`), when the body has one. */
  canonical?: string;
  message: string;
  retryAfterMs?: number;
}

/** One entry of a failed Operation's `error.errors`. */
export interface OperationErrorItem {
  code: string;
  message?: string;
  location?: string;
}

/** What a finished Operation says about its failure. */
export interface OperationFault {
  method: string;
  operation: string;
  errors: OperationErrorItem[];
  httpErrorStatusCode?: number;
  httpErrorMessage?: string;
}

/** What the calling verb calls a permanent failure of its own kind (a refused instance is `VmCreationFailed`). */
export type PermanentCode = Extract<ErrorCode, 'VmCreationFailed' | 'DiskError' | 'CloudError'>;

/** Reads an error response of either shape; a body that is neither keeps the HTTP status text. */
export async function readFault(response: Response, api: GoogleApi, method: string): Promise<GoogleFault> {
  const text = await response.text().catch(() => '');
  const fault: GoogleFault = {
    api,
    method,
    status: response.status,
    message: response.statusText || `HTTP ${response.status}`,
  };
  const retryAfter = Number(response.headers.get('retry-after') ?? NaN);
  if (Number.isFinite(retryAfter) && retryAfter > 0) fault.retryAfterMs = retryAfter * 1000;
  const body = parseJson(text) as { error?: unknown; error_description?: unknown } | undefined;
  if (body && typeof body.error === 'object' && body.error !== null) {
    const error = body.error as {
      message?: unknown;
      status?: unknown;
      errors?: Array<{ reason?: unknown; domain?: unknown; message?: unknown }>;
    };
    const first = Array.isArray(error.errors) ? error.errors[0] : undefined;
    if (typeof error.message === 'string') fault.message = error.message;
    if (typeof error.status === 'string') fault.canonical = error.status;
    if (typeof first?.reason === 'string') fault.reason = first.reason;
    if (typeof first?.domain === 'string') fault.domain = first.domain;
  } else if (body && typeof body.error === 'string') {
    fault.reason = body.error;
    fault.message = typeof body.error_description === 'string' ? body.error_description : body.error;
  } else if (text.trim()) {
    fault.message = htmlToText(text);
  }
  return fault;
}

const RATE_REASONS: ReadonlySet<string> = new Set([
  'rateLimitExceeded',
  'userRateLimitExceeded',
  'RATE_LIMIT_EXCEEDED',
]);
const QUOTA_REASONS: ReadonlySet<string> = new Set(['quotaExceeded', 'QUOTA_EXCEEDED']);
const RETRYABLE_REASONS: ReadonlySet<string> = new Set(['backendError', 'internalError']);

/**
 * The one place Google API errors become SlipwayErrors. The reason decides before the status: Compute
 * reports rate limits as 403 `rateLimitExceeded` as often as 429, and quota as 403 `quotaExceeded`.
 */
export function faultToError(fault: GoogleFault, permanent: PermanentCode = 'CloudError'): SlipwayError {
  const message = `${fault.api} ${fault.method}: ${fault.status}${fault.reason ? ` ${fault.reason}` : ''}: ${fault.message}`;
  const details: Record<string, unknown> = {
    api: fault.api,
    method: fault.method,
    status: fault.status,
    ...(fault.reason ? { cloudCode: fault.reason } : {}),
    ...(fault.canonical ? { canonicalStatus: fault.canonical } : {}),
    cloudMessage: fault.message,
  };
  const base = { plugin: PLUGIN, details, cause: fault };
  const reason = fault.reason ?? '';
  if (fault.api === 'oauth2') return tokenError(fault, message, base);
  if (fault.status === 401) {
    return new SlipwayError('Unauthenticated', message, {
      ...base,
      hint: 'The access token was refused twice; check that the service account in credentials_ref still exists and its key is not disabled.',
    });
  }
  if (RATE_REASONS.has(reason) || (fault.status === 429 && !QUOTA_REASONS.has(reason))) {
    return new SlipwayError('RateLimited', message, { ...base, retryAfterMs: fault.retryAfterMs });
  }
  if (QUOTA_REASONS.has(reason)) {
    return new SlipwayError('QuotaExceeded', message, {
      ...base,
      hint: 'Delete unused VMs or disks in the project, or request a higher quota (IAM & Admin > Quotas) for the region the message names.',
    });
  }
  if (fault.status >= 500 || RETRYABLE_REASONS.has(reason)) {
    return new SlipwayError('Retryable', message, { ...base, retryAfterMs: fault.retryAfterMs });
  }
  if (fault.status === 404) return new SlipwayError('NotFound', message, base);
  if (fault.status === 409 && reason === 'alreadyExists') return new SlipwayError('AlreadyExists', message, base);
  // A fingerprint that changed under us, or a resource busy with another operation: both clear by themselves.
  if (fault.status === 412 || reason === 'conditionNotMet' || reason === 'resourceNotReady') {
    return new SlipwayError('Conflict', message, { ...base, retryable: true });
  }
  if (fault.status === 409 || reason === 'resourceInUseByAnotherResource')
    return new SlipwayError('Conflict', message, base);
  if (fault.status === 403) {
    return new SlipwayError('CloudError', message, {
      ...base,
      hint:
        reason === 'accessNotConfigured'
          ? 'Enable the Compute Engine API for the project (gcloud services enable compute.googleapis.com).'
          : 'Grant the service account in credentials_ref the Compute Instance Admin (v1) role, and Service Account User on vm_service_account.',
    });
  }
  return new SlipwayError(permanent, message, base);
}

function tokenError(
  fault: GoogleFault,
  message: string,
  base: { plugin: string; details: Record<string, unknown>; cause: unknown },
): SlipwayError {
  if (fault.status >= 500) return new SlipwayError('Retryable', message, { ...base, retryAfterMs: fault.retryAfterMs });
  if (fault.status === 429)
    return new SlipwayError('RateLimited', message, { ...base, retryAfterMs: fault.retryAfterMs });
  return new SlipwayError('Unauthenticated', message, {
    ...base,
    hint:
      fault.reason === 'invalid_grant'
        ? "Google refused the service-account key: check that the key in credentials_ref is current (not deleted or rotated) and that this machine's clock is right."
        : 'Google refused the token request; check the service-account key in credentials_ref.',
  });
}

/** Operation error codes that say what happened better than the HTTP status recorded with them. */
const OPERATION_CODES: Readonly<Record<string, { code: ErrorCode; retryable?: boolean; hint?: string }>> = {
  QUOTA_EXCEEDED: {
    code: 'QuotaExceeded',
    hint: 'Delete unused VMs or disks, or request a higher quota for the region the message names.',
  },
  ZONE_RESOURCE_POOL_EXHAUSTED: {
    code: 'CapacityExhausted',
    retryable: true,
    hint: 'The zone has no capacity for this machine type right now; try another zone (cloud_properties.zone) or machine type.',
  },
  ZONE_RESOURCE_POOL_EXHAUSTED_WITH_DETAILS: {
    code: 'CapacityExhausted',
    retryable: true,
    hint: 'The zone has no capacity for this machine type right now; try another zone (cloud_properties.zone) or machine type.',
  },
  RATE_LIMIT_EXCEEDED: { code: 'RateLimited' },
  RESOURCE_NOT_READY: { code: 'Conflict', retryable: true },
  RESOURCE_IN_USE_BY_ANOTHER_RESOURCE: { code: 'Conflict' },
  INTERNAL_ERROR: { code: 'Retryable' },
};

/** A finished Operation with `error`: its first error code decides, then `httpErrorStatusCode`. */
export function operationFaultToError(fault: OperationFault, permanent: PermanentCode = 'CloudError'): SlipwayError {
  const first = fault.errors[0];
  const text = fault.errors.map((e) => `${e.code}: ${e.message ?? 'no message'}`).join('; ') || 'no error recorded';
  const message = `compute ${fault.method}: operation ${fault.operation} failed: ${text}`;
  const details: Record<string, unknown> = {
    api: 'compute',
    method: fault.method,
    operation: fault.operation,
    ...(first ? { cloudCode: first.code, cloudMessage: first.message } : {}),
    ...(fault.httpErrorStatusCode ? { status: fault.httpErrorStatusCode } : {}),
  };
  const base = { plugin: PLUGIN, details, cause: fault };
  const known = first ? OPERATION_CODES[first.code] : undefined;
  if (known)
    return new SlipwayError(known.code, message, {
      ...base,
      ...(known.retryable !== undefined ? { retryable: known.retryable } : {}),
      ...(known.hint ? { hint: known.hint } : {}),
    });
  const status = fault.httpErrorStatusCode ?? 400;
  if (status === 429) return new SlipwayError('RateLimited', message, base);
  if (status >= 500) return new SlipwayError('Retryable', message, base);
  if (status === 404) return new SlipwayError('NotFound', message, base);
  if (status === 409 || status === 412)
    return new SlipwayError('Conflict', message, { ...base, retryable: status === 412 });
  return new SlipwayError(permanent, message, base);
}

/** Errors of the request itself: aborts become `Cancelled`, connection failures `Retryable`. */
export function transportError(error: unknown, api: GoogleApi, method: string, signal?: AbortSignal): SlipwayError {
  if (SlipwayError.is(error)) return error;
  if (signal?.aborted || (error as { name?: unknown })?.name === 'AbortError')
    return cancelled(signal, `${api} ${method}`, error);
  const reason =
    error instanceof Error
      ? `${error.message}${error.cause instanceof Error ? ` (${error.cause.message})` : ''}`
      : String(error);
  return new SlipwayError('Retryable', `${api} ${method}: cannot reach the endpoint: ${reason}`, {
    plugin: PLUGIN,
    cause: error,
    details: { api, method },
  });
}

export function cancelled(signal: AbortSignal | undefined, what = 'the operation', cause?: unknown): SlipwayError {
  return new SlipwayError('Cancelled', `${what} was aborted`, { plugin: PLUGIN, cause: signal?.reason ?? cause });
}

export function throwIfCancelled(signal: AbortSignal | undefined): void {
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

function htmlToText(text: string): string {
  return text
    .replace(/<title>[^<]*<\/title>/i, '')
    .replace(/<style[\s\S]*?<\/style>/gi, '')
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 500);
}
