import { SlipwayError, type ErrorCode } from '@slipway/contracts';
import type { MoRef } from './soap.js';
import { child, childText, xsiType, type XmlElement } from './xml.js';

/** The package name every error carries, so the task log says which plugin raised it. */
export const PLUGIN = '@slipway/iaas-vsphere';

/** A failure reported by vCenter, from any of the three places it reports them. */
export interface VimFault {
  /** The vim25 method (`CloneVM_Task`), or the task's method when the task ended in error. */
  method: string;
  /**
   * `soap`: the call itself answered a SOAP fault; `task`: the call started a Task that ended in `error`;
   * `http`: something before vCenter's SOAP layer answered (reverse proxy 503, rate limiter 429).
   */
  source: 'soap' | 'task' | 'http';
  /** The vim25 fault type (`ManagedObjectNotFound`, `InvalidLogin`, `InsufficientMemoryResourcesFault`), when known. */
  faultType?: string;
  message: string;
  /** HTTP status of the response that carried it (500 for SOAP faults; 200 for a task's fault). */
  status: number;
  /** From `Retry-After`, in ms. */
  retryAfterMs?: number;
  /** The object a ManagedObjectNotFound names. */
  object?: MoRef;
  /** The privilege a NoPermission / NotAuthenticated names. */
  privilegeId?: string;
}

/**
 * Reads a fault element: `soapenv:Fault` (faultstring + detail) or a task's LocalizedMethodFault
 * (`fault` + `localizedMessage`). The type comes from the detail's `xsi:type`, or from its element name
 * (`ManagedObjectNotFoundFault` -> `ManagedObjectNotFound`) when the type attribute is missing.
 */
export function readSoapFault(fault: XmlElement, method: string, status: number): VimFault {
  const detail = child(fault, 'detail')?.children[0];
  return describeFault(
    detail,
    childText(fault, 'faultstring') ?? 'SOAP fault without faultstring',
    method,
    'soap',
    status,
  );
}

export function readTaskFault(error: XmlElement | undefined, method: string): VimFault {
  const fault = child(error, 'fault');
  const message =
    childText(error, 'localizedMessage')?.trim() || firstFaultMessage(fault) || 'the task failed without a message';
  return describeFault(fault, message, method, 'task', 200);
}

function describeFault(
  detail: XmlElement | undefined,
  message: string,
  method: string,
  source: VimFault['source'],
  status: number,
): VimFault {
  const fault: VimFault = { method, source, message: message.trim(), status };
  const type = xsiType(detail) ?? (detail && detail.name !== 'fault' ? detail.name.replace(/Fault$/, '') : undefined);
  if (type) fault.faultType = type;
  const obj = child(detail, 'obj');
  if (obj?.attrs.type) fault.object = { type: obj.attrs.type, value: obj.text };
  const privilege = childText(detail, 'privilegeId');
  if (privilege) fault.privilegeId = privilege;
  return fault;
}

/** Some faults carry their text in `faultMessage` (LocalizableMessage) rather than a localizedMessage. */
function firstFaultMessage(fault: XmlElement | undefined): string | undefined {
  return childText(child(fault, 'faultMessage'), 'message') ?? undefined;
}

/** What the calling verb calls a permanent failure of its own kind (a refused clone is `VmCreationFailed`). */
export type PermanentCode = Extract<ErrorCode, 'VmCreationFailed' | 'DiskError' | 'CloudError'>;

/** Fault types that clear by themselves: the object is busy or in a transitional state. */
const BUSY = new Set([
  'InvalidState',
  'InvalidPowerState',
  'TaskInProgress',
  'ConcurrentAccess',
  'InvalidHostState',
  'VmPowerOnDisabled',
]);
/** Faults of vCenter or a host being busy, unwell or unreachable. vim25 has no throttling fault: a rate limiter in front answers 429. */
const TRANSIENT = new Set([
  'SystemError',
  'HostCommunication',
  'HostNotConnected',
  'HostNotReachable',
  'RequestCanceled',
  'Timedout',
]);
/** Admission control of a resource pool (its limits and reservations): the vSphere analogue of a quota. */
const POOL_LIMIT = new Set([
  'InsufficientResourcesFault',
  'InsufficientCpuResourcesFault',
  'InsufficientMemoryResourcesFault',
  'VmLimitLicense',
  'NumVirtualCpusExceedsLimit',
]);
/** No host or datastore has room right now. */
const NO_ROOM = new Set([
  'InsufficientHostCapacityFault',
  'InsufficientHostCpuCapacityFault',
  'InsufficientHostMemoryCapacityFault',
  'InsufficientFailoverResourcesFault',
  'NoDiskSpace',
  'InsufficientStorageSpace',
  'InsufficientDisks',
  'NoCompatibleHost',
]);
const GONE = new Set(['ManagedObjectNotFound', 'FileNotFound', 'NotFound']);
const EXISTS = new Set(['DuplicateName', 'AlreadyExists', 'FileAlreadyExists']);

/** The one place vCenter's faults become SlipwayErrors. */
export function faultToError(fault: VimFault, permanent: PermanentCode = 'CloudError'): SlipwayError {
  const where = fault.source === 'task' ? `task ${fault.method}` : fault.method;
  const message = `vSphere ${where}: ${fault.faultType ?? `HTTP ${fault.status}`}: ${fault.message}`;
  const details: Record<string, unknown> = {
    method: fault.method,
    source: fault.source,
    status: fault.status,
    ...(fault.faultType ? { cloudCode: fault.faultType } : {}),
    cloudMessage: fault.message,
    ...(fault.object ? { object: `${fault.object.type}:${fault.object.value}` } : {}),
  };
  const base = { plugin: PLUGIN, details, cause: fault };
  const type = fault.faultType;
  if (type === undefined) return httpError(fault, message, base);
  if (type === 'InvalidLogin' || type === 'NotAuthenticated' || type === 'InvalidCertificate') {
    return new SlipwayError('Unauthenticated', message, {
      ...base,
      hint: 'Check the vCenter user name and password in the credential that credentials_ref names (a vCenter SSO user such as user@vsphere.local).',
    });
  }
  if (type === 'NoPermission') {
    return new SlipwayError('CloudError', message, {
      ...base,
      hint: `Grant the vCenter user the privilege ${fault.privilegeId ?? 'named in the message'} on the datacenter, cluster, datastore and folders in the config.`,
    });
  }
  if (GONE.has(type)) return new SlipwayError('NotFound', message, base);
  if (EXISTS.has(type)) return new SlipwayError('AlreadyExists', message, base);
  if (BUSY.has(type)) return new SlipwayError('Conflict', message, { ...base, retryable: true });
  if (type === 'FileLocked' || type === 'ResourceInUse') {
    return new SlipwayError('Conflict', message, {
      ...base,
      hint: 'Another VM holds this file open: detach the disk from it first.',
    });
  }
  if (POOL_LIMIT.has(type)) {
    return new SlipwayError('QuotaExceeded', message, {
      ...base,
      hint: "The resource pool's limits or reservations leave no room: delete unused VMs or raise the pool's CPU/memory limit in vCenter.",
    });
  }
  if (NO_ROOM.has(type)) {
    return new SlipwayError('CapacityExhausted', message, {
      ...base,
      hint: 'No host or datastore has room for this right now: free capacity in the cluster or datastore, or point the config at another one.',
    });
  }
  if (TRANSIENT.has(type)) return new SlipwayError('Retryable', message, base);
  return new SlipwayError(permanent, message, base);
}

function httpError(
  fault: VimFault,
  message: string,
  base: { plugin: string; details: Record<string, unknown>; cause: unknown },
): SlipwayError {
  if (fault.status === 429)
    return new SlipwayError('RateLimited', message, { ...base, retryAfterMs: fault.retryAfterMs });
  if (fault.status === 401 || fault.status === 403) {
    return new SlipwayError('Unauthenticated', message, {
      ...base,
      hint: "vCenter's reverse proxy refused the request; check the credential and that the URL points at vCenter's /sdk.",
    });
  }
  if (fault.status === 404) {
    return new SlipwayError('CloudError', message, {
      ...base,
      hint: 'The URL does not serve the vSphere Web Services API; point `url` at https://VCENTER/sdk.',
    });
  }
  if (fault.status >= 500 || fault.status === 408)
    return new SlipwayError('Retryable', message, { ...base, retryAfterMs: fault.retryAfterMs });
  return new SlipwayError('CloudError', message, base);
}

/** Node's TLS verification errors: a missing or wrong `ca_cert`, never worth retrying. */
const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
]);

/** Errors of the request itself: aborts become `Cancelled`, TLS refusals `InvalidConfig`, connection failures `Retryable`. */
export function transportError(error: unknown, method: string, url: string, signal?: AbortSignal): SlipwayError {
  if (SlipwayError.is(error)) return error;
  if (signal?.aborted || (error as { name?: unknown })?.name === 'AbortError') {
    return new SlipwayError('Cancelled', `vSphere ${method}: the operation was aborted`, {
      plugin: PLUGIN,
      cause: signal?.reason ?? error,
    });
  }
  const cause = (error as { cause?: unknown })?.cause;
  const code = (cause as { code?: unknown })?.code ?? (error as { code?: unknown })?.code;
  const reason =
    error instanceof Error ? `${error.message}${cause instanceof Error ? ` (${cause.message})` : ''}` : String(error);
  if (typeof code === 'string' && TLS_CODES.has(code)) {
    return new SlipwayError('InvalidConfig', `vSphere ${method}: the certificate of ${url} is not trusted: ${reason}`, {
      plugin: PLUGIN,
      cause: error,
      field: 'ca_cert',
      hint: "Set ca_cert to the PEM of vCenter's CA (download it from https://VCENTER/certs/download.zip), or insecure: true on a lab vCenter only.",
    });
  }
  return new SlipwayError('Retryable', `vSphere ${method}: cannot reach ${url}: ${reason}`, {
    plugin: PLUGIN,
    cause: error,
    details: { method },
  });
}

/** A response that is neither a SOAP envelope nor an HTTP error: a proxy page or a truncated body. */
export function malformedResponse(method: string, status: number, text: string): SlipwayError {
  return new SlipwayError(
    'Retryable',
    `vSphere ${method}: HTTP ${status} with a body that is not a SOAP envelope: ${text.slice(0, 200)}`,
    { plugin: PLUGIN, details: { method, status } },
  );
}

/** The text of a non-SOAP error page, without markup. */
export function pageText(text: string): string {
  return text
    .replace(/<title>[^<]*<\/title>/i, '')
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 500);
}
