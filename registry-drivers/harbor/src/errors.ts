import { SlipwayError } from '@slipway/contracts';

/** The package name every error carries, so the task log says which plugin raised it. */
export const PLUGIN = '@slipway/registry-harbor';

/** An error response of Harbor's API: `{"errors":[{"code","message"}]}`, as its core service writes them. */
export interface HarborFault {
  /** The API operation, named after the swagger's operationId (`createProject`, `refreshSec`). */
  operation: string;
  status: number;
  /** Harbor's error code: `NOT_FOUND`, `CONFLICT`, `PRECONDITION_FAILED`, `UNAUTHORIZED`, `FORBIDDEN`... */
  code?: string;
  message: string;
  retryAfterMs?: number;
  /** `X-Request-Id` of the answer: what Harbor's operators grep core.log for. */
  requestId?: string;
}

export function parseFault(
  operation: string,
  status: number,
  text: string,
  headers: { retryAfter?: string; requestId?: string },
): HarborFault {
  const fault: HarborFault = { operation, status, message: `HTTP ${status}`, requestId: headers.requestId };
  try {
    const body = JSON.parse(text) as { errors?: Array<{ code?: unknown; message?: unknown }> };
    const first = body.errors?.[0];
    if (first && typeof first.code === 'string') fault.code = first.code;
    if (first && typeof first.message === 'string') fault.message = first.message;
  } catch {
    // a proxy in front of Harbor answers in text or HTML
    if (text.trim())
      fault.message = text
        .replace(/<[^>]*>/g, ' ')
        .replace(/\s+/g, ' ')
        .trim()
        .slice(0, 300);
  }
  const seconds = headers.retryAfter === undefined ? NaN : Number(headers.retryAfter);
  if (Number.isFinite(seconds) && seconds > 0) fault.retryAfterMs = seconds * 1000;
  return fault;
}

/** The one place Harbor's answers become SlipwayErrors. */
export function faultToError(fault: HarborFault): SlipwayError {
  const message = `harbor ${fault.operation}: ${fault.status}${fault.code ? ` ${fault.code}` : ''}: ${fault.message}`;
  const details: Record<string, unknown> = {
    operation: fault.operation,
    status: fault.status,
    cloudMessage: fault.message,
    ...(fault.code ? { cloudCode: fault.code } : {}),
    ...(fault.requestId ? { cloudRequestId: fault.requestId } : {}),
  };
  const base = { plugin: PLUGIN, details, cause: fault };
  if (fault.status === 401) {
    const hint =
      'Check the username and password in the credential that credentials_ref names (a Harbor admin or a system robot).';
    return new SlipwayError('Unauthenticated', message, { ...base, hint });
  }
  if (fault.status === 403 && /quota|exceed/i.test(fault.message)) {
    return new SlipwayError('QuotaExceeded', message, {
      ...base,
      hint: "Raise the project's storage quota (plan registry.storage_limit) or delete images.",
    });
  }
  if (fault.status === 403) {
    const hint =
      'The account lacks a permission: use a Harbor admin or give the system robot project and robot permissions.';
    return new SlipwayError('Forbidden', message, { ...base, hint });
  }
  if (fault.status === 404) return new SlipwayError('NotFound', message, base);
  if (fault.status === 409) return new SlipwayError('AlreadyExists', message, base);
  if (fault.status === 412)
    return new SlipwayError('Conflict', message, {
      ...base,
      hint: 'The project still holds repositories; delete them or keep the project.',
    });
  if (fault.status === 429)
    return new SlipwayError('RateLimited', message, { ...base, retryAfterMs: fault.retryAfterMs });
  if (fault.status >= 500 && fault.status !== 501)
    return new SlipwayError('Retryable', message, { ...base, retryAfterMs: fault.retryAfterMs });
  if (fault.status === 400) return new SlipwayError('InvalidInput', message, base);
  return new SlipwayError('CloudError', message, base);
}

/** Errors of the request itself: aborts become `Cancelled`, connection failures and timeouts `Retryable`. */
export function transportError(error: unknown, operation: string, signal?: AbortSignal): SlipwayError {
  if (SlipwayError.is(error)) return error;
  if (signal?.aborted) {
    return new SlipwayError('Cancelled', `harbor ${operation}: the operation was aborted`, {
      plugin: PLUGIN,
      cause: signal.reason ?? error,
    });
  }
  const reason = error instanceof Error ? error.message : String(error);
  return new SlipwayError('Retryable', `harbor ${operation}: cannot reach Harbor: ${reason}`, {
    plugin: PLUGIN,
    cause: error,
    details: { operation },
  });
}
