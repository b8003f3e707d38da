import { SlipwayError, type ErrorCode } from '@slipway/contracts';

/** The package name every error carries, so the task log says which plugin raised it. */
export const PLUGIN = '@slipway/iaas-openstack';

/** The OpenStack services this driver talks to, by catalog type. */
export type OpenStackService = 'identity' | 'compute' | 'volumev3' | 'image';

/** An error response of an OpenStack API, parsed from whichever body shape that service uses. */
export interface OpenStackFault {
  service: OpenStackService;
  /** The API operation, named as in the OpenStack API reference (`createServer`, `extendVolume`). */
  operation: string;
  status: number;
  /** The fault's name: `itemNotFound`, `badRequest`, `overLimit`, `forbidden`, `computeFault`, `Unauthorized`... */
  kind?: string;
  message: string;
  /** From the `Retry-After` header or the body's `retryAfter`, in ms. */
  retryAfterMs?: number;
  /** `x-openstack-request-id` / `x-compute-request-id`: what the cloud's operators grep their logs for. */
  requestId?: string;
}

/**
 * Reads an error response. Nova and Cinder answer `{"<faultName>": {"code", "message", "retryAfter"?}}`,
 * Keystone `{"error": {"code", "title", "message"}}`, Glance a webob text or HTML page.
 */
export async function readFault(
  response: Response,
  service: OpenStackService,
  operation: string,
): Promise<OpenStackFault> {
  const text = await response.text().catch(() => '');
  const fault: OpenStackFault = {
    service,
    operation,
    status: response.status,
    message: response.statusText || `HTTP ${response.status}`,
    requestId:
      response.headers.get('x-openstack-request-id') ?? response.headers.get('x-compute-request-id') ?? undefined,
  };
  let retryAfter: string | undefined = response.headers.get('retry-after') ?? undefined;
  const parsed = parseJson(text);
  if (parsed && typeof parsed === 'object') {
    const [kind, body] = Object.entries(parsed as Record<string, unknown>)[0] ?? [];
    if (kind && body && typeof body === 'object') {
      const b = body as { message?: unknown; title?: unknown; retryAfter?: unknown };
      fault.kind = kind === 'error' && typeof b.title === 'string' ? b.title : kind;
      if (typeof b.message === 'string') fault.message = b.message;
      if (retryAfter === undefined && (typeof b.retryAfter === 'string' || typeof b.retryAfter === 'number'))
        retryAfter = String(b.retryAfter);
    }
  } else if (text.trim()) {
    fault.message = htmlToText(text);
  }
  const seconds = retryAfter === undefined ? NaN : Number(retryAfter);
  if (Number.isFinite(seconds) && seconds > 0) fault.retryAfterMs = seconds * 1000;
  return fault;
}

/** What the calling verb calls a permanent failure of its own kind (a refused server is `VmCreationFailed`). */
export type PermanentCode = Extract<ErrorCode, 'VmCreationFailed' | 'DiskError' | 'CloudError'>;

/**
 * The one place OpenStack errors become SlipwayErrors. Rate limiting and quota share 413 `overLimit`
 * (Cinder reports quota that way, Nova's and proxies' rate limiters too), so the message decides.
 */
export function faultToError(fault: OpenStackFault, permanent: PermanentCode = 'CloudError'): SlipwayError {
  const message = `${fault.service} ${fault.operation}: ${fault.status}${fault.kind ? ` ${fault.kind}` : ''}: ${fault.message}`;
  const details: Record<string, unknown> = {
    service: fault.service,
    operation: fault.operation,
    status: fault.status,
    ...(fault.kind ? { cloudCode: fault.kind } : {}),
    cloudMessage: fault.message,
    ...(fault.requestId ? { cloudRequestId: fault.requestId } : {}),
  };
  const base = { plugin: PLUGIN, details, cause: fault };
  const quota = /quota|exceeds allowed/i.test(fault.message);
  if (fault.status === 401) {
    return new SlipwayError('Unauthenticated', message, {
      ...base,
      hint: 'Check the Keystone user, password, domains and project in the credential that credentials_ref names.',
    });
  }
  if (quota && (fault.status === 403 || fault.status === 413 || fault.status === 429)) {
    return new SlipwayError('QuotaExceeded', message, {
      ...base,
      hint: 'Delete unused VMs or volumes in the OpenStack project, or ask its operators to raise the quota (openstack quota show).',
    });
  }
  if (fault.status === 413 || fault.status === 429) {
    return new SlipwayError('RateLimited', message, { ...base, retryAfterMs: fault.retryAfterMs });
  }
  if (fault.status === 404) return new SlipwayError('NotFound', message, base);
  // Nova and Cinder answer 409 while a resource is in a transitional task state; it clears by itself.
  if (fault.status === 409) return new SlipwayError('Conflict', message, { ...base, retryable: true });
  if (fault.status >= 500 && fault.status !== 501)
    return new SlipwayError('Retryable', message, { ...base, retryAfterMs: fault.retryAfterMs });
  if (fault.status === 406) {
    return new SlipwayError('CloudError', message, {
      ...base,
      hint: 'This cloud is older than the API microversion the driver needs (compute 2.79, volume 3.50); see the driver README.',
    });
  }
  if (fault.status === 403) {
    return new SlipwayError('CloudError', message, {
      ...base,
      hint: 'The OpenStack policy refuses this to the project user; ask the cloud operators for the member role on the project.',
    });
  }
  return new SlipwayError(permanent, message, base);
}

/** Errors of the request itself: aborts become `Cancelled`, connection failures `Retryable`. */
export function transportError(
  error: unknown,
  service: OpenStackService,
  operation: string,
  signal?: AbortSignal,
): SlipwayError {
  if (SlipwayError.is(error)) return error;
  if (signal?.aborted || (error as { name?: unknown })?.name === 'AbortError') {
    return new SlipwayError('Cancelled', `${service} ${operation}: the operation was aborted`, {
      plugin: PLUGIN,
      cause: signal?.reason ?? error,
    });
  }
  const reason =
    error instanceof Error
      ? `${error.message}${error.cause instanceof Error ? ` (${error.cause.message})` : ''}`
      : String(error);
  return new SlipwayError('Retryable', `${service} ${operation}: cannot reach the endpoint: ${reason}`, {
    plugin: PLUGIN,
    cause: error,
    details: { service, operation },
  });
}

/** A Nova server that went to ERROR: its `fault` says why. No valid host means the cloud is full right now. */
export function serverFaultError(
  serverId: string,
  fault: { code?: number; message?: string } | undefined,
): SlipwayError {
  const text = fault?.message ?? 'no fault recorded';
  const message = `compute server ${serverId} went to ERROR: ${text}`;
  const details = { service: 'compute', serverId, ...(fault?.code ? { status: fault.code } : {}), cloudMessage: text };
  if (/no valid host/i.test(text)) {
    return new SlipwayError('CapacityExhausted', message, {
      plugin: PLUGIN,
      details,
      retryable: true,
      hint: 'The cloud has no hypervisor with room for this flavor right now; free capacity, pick a smaller flavor or another availability zone.',
    });
  }
  return new SlipwayError('VmCreationFailed', message, { plugin: PLUGIN, details });
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
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 500);
}
