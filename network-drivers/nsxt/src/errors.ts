import { SlipwayError } from '@slipway/contracts';

export const PLUGIN = '@slipway/network-nsxt';

/** An NSX API error body: `{httpStatus, error_code, module_name, error_message, related_errors}`. */
export interface NsxFault {
  operation: string;
  status: number;
  errorCode?: number;
  moduleName?: string;
  message: string;
  related: Array<{ error_code?: number; error_message?: string }>;
  retryAfterMs?: number;
}

export async function readFault(response: Response, operation: string): Promise<NsxFault> {
  const text = await response.text().catch(() => '');
  const fault: NsxFault = {
    operation,
    status: response.status,
    message: response.statusText || `HTTP ${response.status}`,
    related: [],
  };
  try {
    const body = JSON.parse(text) as {
      error_code?: unknown;
      module_name?: unknown;
      error_message?: unknown;
      related_errors?: unknown;
    };
    if (typeof body.error_code === 'number') fault.errorCode = body.error_code;
    if (typeof body.module_name === 'string') fault.moduleName = body.module_name;
    if (typeof body.error_message === 'string') fault.message = body.error_message;
    if (Array.isArray(body.related_errors)) fault.related = body.related_errors as NsxFault['related'];
  } catch {
    if (text.trim())
      fault.message = text
        .replace(/<[^>]+>/g, ' ')
        .replace(/\s+/g, ' ')
        .trim()
        .slice(0, 300);
  }
  const seconds = Number(response.headers.get('retry-after'));
  if (Number.isFinite(seconds) && seconds > 0) fault.retryAfterMs = seconds * 1000;
  return fault;
}

/** The one place NSX errors become SlipwayErrors. */
export function faultToError(fault: NsxFault): SlipwayError {
  const related = fault.related.map((r) => r.error_message).filter(Boolean);
  const message =
    `nsx ${fault.operation}: ${fault.status}${fault.errorCode !== undefined ? ` (error_code ${fault.errorCode})` : ''}: ${fault.message}` +
    (related.length ? `; ${related.join('; ')}` : '');
  const details = {
    operation: fault.operation,
    status: fault.status,
    cloudMessage: fault.message,
    ...(fault.errorCode !== undefined ? { cloudCode: fault.errorCode } : {}),
    ...(fault.moduleName ? { module: fault.moduleName } : {}),
  };
  const base = { plugin: PLUGIN, details, cause: fault };
  switch (true) {
    case fault.status === 401 || fault.status === 403:
      return new SlipwayError('Unauthenticated', message, {
        ...base,
        hint: 'Check the user or principal identity certificate in the credential that credentials_ref names, and its role in NSX (Enterprise Admin or Network Admin).',
      });
    case fault.status === 429:
      return new SlipwayError('RateLimited', message, { ...base, retryAfterMs: fault.retryAfterMs });
    case fault.status === 412:
      // Someone else wrote the object between our read and our write; reading again and rewriting converges.
      return new SlipwayError('Conflict', message, {
        ...base,
        retryable: true,
        hint: 'Another writer changed the object; the engine reads it again and retries.',
      });
    case fault.status === 404:
      return new SlipwayError('NotFound', message, base);
    case fault.status === 409:
      return new SlipwayError('Conflict', message, { ...base, retryable: true });
    case fault.status === 503 || fault.status === 502 || fault.status === 504 || fault.status === 500:
      return new SlipwayError('Retryable', message, { ...base, retryAfterMs: fault.retryAfterMs });
    case fault.errorCode === 500030:
      // Still has children or is still referenced: NSX deletes asynchronously, so a child deleted a moment ago may
      // still hold its parent; if something outside Slipway uses the object, the retries end with this message.
      return new SlipwayError('Conflict', message, {
        ...base,
        retryable: true,
        hint: 'NSX may still be deleting what depends on it; if this persists, remove what the message names as referencing it.',
      });
    case /exhausted|no free ip|not enough free/i.test(fault.message):
      return new SlipwayError('CapacityExhausted', message, {
        ...base,
        hint: 'Give the Nodes IP Block or the Floating IP Pool more addresses in NSX, raise node_addresses_per_cluster, or delete unused clusters.',
      });
    default:
      return new SlipwayError('CloudError', message, base);
  }
}

/** Errors of the request itself: aborts become `Cancelled`, connection failures `Retryable`. */
export function transportError(error: unknown, operation: string, signal?: AbortSignal): SlipwayError {
  if (SlipwayError.is(error)) return error;
  if (signal?.aborted)
    return new SlipwayError('Cancelled', `nsx ${operation}: the operation was aborted`, {
      plugin: PLUGIN,
      cause: signal.reason,
    });
  if ((error as { name?: unknown })?.name === 'TimeoutError') {
    return new SlipwayError('Timeout', `nsx ${operation}: NSX Manager did not answer in time`, {
      plugin: PLUGIN,
      cause: error,
      details: { operation },
    });
  }
  const reason =
    error instanceof Error
      ? `${error.message}${error.cause instanceof Error ? ` (${error.cause.message})` : ''}`
      : String(error);
  const tlsCode = String((error as { cause?: { code?: unknown } })?.cause?.code ?? '');
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(tlsCode)) {
    // Not transient: retrying cannot make an untrusted certificate trusted.
    return new SlipwayError('CloudError', `nsx ${operation}: NSX Manager's certificate is not trusted: ${reason}`, {
      plugin: PLUGIN,
      cause: error,
      details: { operation, tlsCode },
      hint: "Set ca_certificate to the PEM of the CA that signed NSX Manager's certificate (System > Certificates in NSX Manager).",
    });
  }
  return new SlipwayError('Retryable', `nsx ${operation}: cannot reach NSX Manager: ${reason}`, {
    plugin: PLUGIN,
    cause: error,
    details: { operation },
  });
}

/** A realization that ended in ERROR: NSX accepted the intent but could not make it so (edge full, bad T0...). */
export function realizationError(intentPath: string, messages: string[]): SlipwayError {
  const text = messages.length ? messages.join('; ') : 'no alarm recorded';
  const exhausted = /exhausted|no free ip/i.test(text);
  return new SlipwayError(
    exhausted ? 'CapacityExhausted' : 'CloudError',
    `nsx realization of ${intentPath} failed: ${text}`,
    {
      plugin: PLUGIN,
      details: { intentPath, cloudMessage: text },
      hint: exhausted
        ? 'Give the IP block or pool more addresses in NSX, or delete unused clusters.'
        : 'Look at the object in NSX Manager (Networking > the object > status) for the alarm; fix it there and retry the task.',
    },
  );
}
