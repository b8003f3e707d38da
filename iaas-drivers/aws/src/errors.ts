import { SlipwayError, type ErrorCode } from '@slipway/contracts';

/** The package name every error carries, so the task log says which plugin raised it. */
export const PLUGIN = '@slipway/iaas-aws';

/** An EC2 error response, as the SDK parsed it from `<Response><Errors><Error>`. */
export interface Ec2Fault {
  /** The EC2 API action (`RunInstances`). */
  operation: string;
  /** EC2's error code (`InvalidInstanceID.NotFound`, `RequestLimitExceeded`). */
  code: string;
  message: string;
  status?: number;
  /** EC2's request id: what AWS support asks for. */
  requestId?: string;
}

/** What the calling verb calls a permanent refusal of its own kind (a refused RunInstances is `VmCreationFailed`). */
export type PermanentCode = Extract<ErrorCode, 'VmCreationFailed' | 'DiskError' | 'CloudError'>;

/** How a caller wants a fault mapped. */
export interface FaultContext {
  /** The code for a permanent refusal (invalid parameter, unknown error code). Default `CloudError`. */
  permanent?: PermanentCode;
  /**
   * NotFound codes are about the resource the verb acts on, except where the verb only uses it: a RunInstances
   * that names a missing AMI, subnet or key pair is a refused VM, not a missing one.
   */
  notFoundIsPermanent?: boolean;
  /** True for ids this process created within the consistency window: EC2 may not show them yet. */
  isYoung?: (id: string) => boolean;
}

/** Throttling codes of EC2 and the AWS front ends before it. */
const THROTTLING: ReadonlySet<string> = new Set([
  'RequestLimitExceeded',
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottled',
  'RequestThrottledException',
  'TooManyRequestsException',
  'SlowDown',
  'BandwidthLimitExceeded',
  'EC2ThrottledException',
]);

/** Transient server-side failures: EC2 asks the caller to try again. */
const TRANSIENT: ReadonlySet<string> = new Set([
  'InternalError',
  'InternalFailure',
  'ServiceUnavailable',
  'Unavailable',
  'RequestTimeout',
  'RequestTimeoutException',
]);

/** Account limits; raised through Service Quotas, never by waiting. */
const QUOTA: ReadonlySet<string> = new Set([
  'InstanceLimitExceeded',
  'VolumeLimitExceeded',
  'VcpuLimitExceeded',
  'SnapshotLimitExceeded',
  'MaxSpotInstanceCountExceeded',
  'ResourceLimitExceeded',
  'AddressLimitExceeded',
  'MaxIOPSLimitExceeded',
  'ResourceCountExceeded',
]);

/** EC2 has no room right now for what was asked in that zone; it may have later. */
const CAPACITY: ReadonlySet<string> = new Set([
  'InsufficientInstanceCapacity',
  'InsufficientCapacity',
  'InsufficientHostCapacity',
  'InsufficientReservedInstanceCapacity',
  'InsufficientCapacityOnHost',
  'InsufficientVolumeCapacity',
  'InsufficientAddressCapacity',
]);

/** The request's credentials or signature were refused. */
const AUTH: ReadonlySet<string> = new Set([
  'AuthFailure',
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
  'IncompleteSignature',
  'MissingAuthenticationToken',
  'ExpiredToken',
  'RequestExpired',
  'UnrecognizedClientException',
  'InvalidAccessKeyId',
]);

/** Authenticated, but IAM or the account refuses. */
const DENIED: ReadonlySet<string> = new Set([
  'UnauthorizedOperation',
  'OptInRequired',
  'Blocked',
  'PendingVerification',
  'AccessDenied',
  'AccessDeniedException',
]);

/** A resource in a transitional state: the same call succeeds once it settles. */
const SETTLING: ReadonlySet<string> = new Set([
  'IncorrectState',
  'IncorrectInstanceState',
  'IncorrectModificationState',
  'ConcurrentTagAccess',
]);

/** The id prefix each NotFound code is about, to recognise a resource EC2 does not show yet. */
const NOT_FOUND_PREFIX: Record<string, string> = {
  'InvalidInstanceID.NotFound': 'i-',
  'InvalidVolume.NotFound': 'vol-',
  'InvalidSnapshot.NotFound': 'snap-',
  'InvalidAMIID.NotFound': 'ami-',
};

export function isNotFoundCode(code: string): boolean {
  return code.endsWith('.NotFound') || code === 'InvalidAMIID.Unavailable';
}

/**
 * The one place EC2 errors become SlipwayErrors. EC2 answers every refusal as a code in an XML body; the code,
 * never the message, decides the mapping (one exception below, where EC2 has no code of its own). The message
 * EC2 sent is kept verbatim in the error's message and details.
 */
export function faultToError(fault: Ec2Fault, context: FaultContext = {}): SlipwayError {
  const permanent = context.permanent ?? 'CloudError';
  const message = `EC2 ${fault.operation}: ${fault.code}: ${fault.message}`;
  const details: Record<string, unknown> = {
    operation: fault.operation,
    cloudCode: fault.code,
    cloudMessage: fault.message,
    ...(fault.status !== undefined ? { status: fault.status } : {}),
    ...(fault.requestId ? { cloudRequestId: fault.requestId } : {}),
  };
  const base = { plugin: PLUGIN, details, cause: fault };
  const code = fault.code;
  if (THROTTLING.has(code)) return new SlipwayError('RateLimited', message, base);
  if (TRANSIENT.has(code)) return new SlipwayError('Retryable', message, base);
  if (QUOTA.has(code)) {
    return new SlipwayError('QuotaExceeded', message, {
      ...base,
      hint: 'Terminate unused instances or volumes, or request a higher limit in the AWS Service Quotas console (EC2 / EBS) for this region.',
    });
  }
  if (CAPACITY.has(code)) {
    // Capacity comes back as other customers release it: worth the engine's retries, then a different plan.
    return new SlipwayError('CapacityExhausted', message, {
      ...base,
      retryable: true,
      hint: 'EC2 has no capacity for this instance type in this availability zone right now; retry later, or use another instance type or zone.',
    });
  }
  if (AUTH.has(code)) {
    return new SlipwayError('Unauthenticated', message, {
      ...base,
      hint:
        code === 'RequestExpired'
          ? "The request was signed with a clock more than 5 minutes off; fix the control plane host's clock (NTP)."
          : 'Check the access key in the credential that credentials_ref names; SignatureDoesNotMatch means a wrong secret key, AuthFailure an unknown or disabled access key id.',
    });
  }
  if (DENIED.has(code)) {
    return new SlipwayError('CloudError', message, {
      ...base,
      hint: 'The IAM policy of the access key does not allow this EC2 action; see the README for the actions the driver needs.',
    });
  }
  if (isNotFoundCode(code)) {
    const prefix = NOT_FOUND_PREFIX[code];
    if (prefix && context.isYoung && mentionedIds(fault.message, prefix).some((id) => context.isYoung!(id))) {
      return new SlipwayError(
        'Retryable',
        `${message} (created moments ago: EC2 is eventually consistent and does not show it everywhere yet)`,
        base,
      );
    }
    if (context.notFoundIsPermanent) return new SlipwayError(permanent, message, base);
    return new SlipwayError('NotFound', message, base);
  }
  if (SETTLING.has(code)) return new SlipwayError('Conflict', message, { ...base, retryable: true });
  if (code === 'InvalidIPAddress.InUse') {
    return new SlipwayError('Conflict', message, {
      ...base,
      retryable: true,
      hint: 'Another instance holds this private address; it is released when that instance is terminated.',
    });
  }
  if (code === 'VolumeInUse' || code === 'InvalidSnapshot.InUse') return new SlipwayError('Conflict', message, base);
  if (code === 'IdempotentParameterMismatch') {
    return new SlipwayError('Conflict', message, {
      ...base,
      hint: 'The same requestId was used before with different parameters; a new operation needs a new requestId.',
    });
  }
  // EC2 reports a device name taken by an attachment it has not shown us yet as a plain InvalidParameterValue.
  if (code === 'InvalidParameterValue' && /attachment point .* is already in use/i.test(fault.message)) {
    return new SlipwayError('Conflict', message, { ...base, retryable: true });
  }
  if (fault.status !== undefined && fault.status >= 500) return new SlipwayError('Retryable', message, base);
  return new SlipwayError(permanent, message, base);
}

/** Ids of one kind that an EC2 message names (`The instance ID 'i-0abc' does not exist`). */
function mentionedIds(message: string, prefix: string): string[] {
  const pattern = new RegExp(`${prefix.replace('-', '\\-')}[0-9a-f]+`, 'g');
  return message.match(pattern) ?? [];
}

/** An SDK exception carrying an EC2 error response, or undefined for anything else. */
export function readFault(error: unknown, operation: string): Ec2Fault | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as {
    name?: unknown;
    Code?: unknown;
    message?: unknown;
    $metadata?: { httpStatusCode?: number; requestId?: string };
    $response?: unknown;
  };
  if (!e.$metadata || typeof e.$metadata.httpStatusCode !== 'number') return undefined;
  const code = typeof e.Code === 'string' ? e.Code : typeof e.name === 'string' ? e.name : 'UnknownError';
  return {
    operation,
    code,
    message: typeof e.message === 'string' && e.message !== '' ? e.message : `HTTP ${e.$metadata.httpStatusCode}`,
    status: e.$metadata.httpStatusCode,
    ...(e.$metadata.requestId ? { requestId: e.$metadata.requestId } : {}),
  };
}

/** Errors below the API: an abort becomes `Cancelled`, a connection failure or timeout `Retryable`. */
export function transportError(error: unknown, operation: string, signal?: AbortSignal): SlipwayError {
  if (SlipwayError.is(error)) return error;
  const name = (error as { name?: unknown })?.name;
  if (signal?.aborted || name === 'AbortError') {
    return new SlipwayError('Cancelled', `EC2 ${operation}: the operation was aborted`, {
      plugin: PLUGIN,
      cause: signal?.reason ?? error,
    });
  }
  const reason =
    error instanceof Error
      ? `${error.message}${error.cause instanceof Error ? ` (${error.cause.message})` : ''}`
      : String(error);
  const code = (error as { code?: unknown })?.code;
  return new SlipwayError(
    'Retryable',
    `EC2 ${operation}: cannot reach the endpoint: ${reason}${typeof code === 'string' && !reason.includes(code) ? ` (${code})` : ''}`,
    {
      plugin: PLUGIN,
      cause: error,
      details: { operation },
    },
  );
}

/**
 * An instance that went from pending to terminated: EC2 records why in its state reason
 * (`Server.InsufficientInstanceCapacity`, `Client.VolumeLimitExceeded`, `Server.InternalError`...).
 */
export function launchFailure(
  instanceId: string,
  reason: { Code?: string; Message?: string } | undefined,
): SlipwayError {
  const code = reason?.Code ?? 'unknown';
  const text = reason?.Message ?? 'EC2 recorded no state reason';
  const message = `EC2 instance ${instanceId} terminated while launching: ${text}`;
  const details = { instanceId, cloudCode: code, cloudMessage: text };
  const bare = code.replace(/^(Server|Client)\./, '');
  if (CAPACITY.has(bare)) {
    return new SlipwayError('CapacityExhausted', message, {
      plugin: PLUGIN,
      details,
      retryable: true,
      hint: 'EC2 has no capacity for this instance type in this availability zone right now; retry later, or use another instance type or zone.',
    });
  }
  if (QUOTA.has(bare)) return new SlipwayError('QuotaExceeded', message, { plugin: PLUGIN, details });
  if (code.startsWith('Server.'))
    return new SlipwayError('VmCreationFailed', message, { plugin: PLUGIN, details, retryable: true });
  return new SlipwayError('VmCreationFailed', message, { plugin: PLUGIN, details });
}
