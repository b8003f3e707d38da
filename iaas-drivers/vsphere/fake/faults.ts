import type { IaasVerb } from '@slipway/simulation';
import { el } from './xml-out.js';

/** A vim25 fault the fake answers with: a SOAP fault on the call, or the error of a Task. */
export class VimFaultError extends Error {
  constructor(
    /** The vim25 fault type: `ManagedObjectNotFound`, `InvalidArgument`, `InsufficientMemoryResourcesFault`... */
    readonly type: string,
    message: string,
    /** The fault's fields, as XML (written inside the detail element / the task's `fault`). */
    readonly detail = '',
  ) {
    super(message);
  }
}

/** Something in front of vCenter's SOAP layer answering instead of it: the reverse proxy's 503, a rate limiter's 429. */
export class HttpFaultError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** A fault a test injects with `failNext(method, fault)`. */
export type InjectedFault =
  | { kind: 'soap'; type: string; message: string; detail?: string }
  | { kind: 'http'; status: number; message: string; retryAfterSeconds?: number };

/** The fault of a task a test makes fail with `failNextTask(method, fault)`. */
export interface InjectedTaskFault {
  type: string;
  message: string;
  detail?: string;
}

export function toError(fault: InjectedFault): Error {
  if (fault.kind === 'soap') return new VimFaultError(fault.type, fault.message, fault.detail ?? '');
  return new HttpFaultError(
    fault.status,
    fault.message,
    fault.retryAfterSeconds !== undefined ? { 'retry-after': String(fault.retryAfterSeconds) } : {},
  );
}

/** What a rate-limiting proxy in front of vCenter answers (VMware Cloud's API gateway does; on-premises an nginx or envoy). */
export function throttled(): HttpFaultError {
  return new HttpFaultError(
    429,
    'Too Many Requests: the request rate of this client exceeds the limit; retry after 1 second.',
    { 'retry-after': '1' },
  );
}

/** What vCenter's reverse proxy answers while vpxd is restarting or overloaded. */
export function proxyUnavailable(): HttpFaultError {
  return new HttpFaultError(
    503,
    '503 Service Unavailable (Failed to connect to endpoint: _serverNamespace = /sdk action = Allow _port = 8085)',
  );
}

/** vpxd's own catch-all transient fault. */
export function systemError(): VimFaultError {
  return new VimFaultError(
    'SystemError',
    'A general system error occurred: vpxd is busy; the operation could not be completed in time.',
    el('reason', 'vpxd busy'),
  );
}

/** The vim25 method behind each contract verb (the one its faults aim at), with a permanent fault of that method. */
export const METHOD_OF_VERB: Record<IaasVerb, { method: string; permanent: InjectedTaskFault }> = {
  createStemcell: {
    method: 'CloneVM_Task',
    permanent: {
      type: 'InvalidArgument',
      message: 'A specified parameter was not correct: spec.location.datastore',
      detail: el('invalidProperty', 'spec.location.datastore'),
    },
  },
  deleteStemcell: {
    method: 'Destroy_Task',
    permanent: {
      type: 'NoPermission',
      message: 'Permission to perform this operation was denied.',
      detail: el('privilegeId', 'VirtualMachine.Inventory.Delete'),
    },
  },
  createVm: {
    method: 'CloneVM_Task',
    permanent: {
      type: 'InvalidArgument',
      message: 'A specified parameter was not correct: spec.location.pool',
      detail: el('invalidProperty', 'spec.location.pool'),
    },
  },
  deleteVm: {
    method: 'Destroy_Task',
    permanent: {
      type: 'NoPermission',
      message: 'Permission to perform this operation was denied.',
      detail: el('privilegeId', 'VirtualMachine.Inventory.Delete'),
    },
  },
  hasVm: {
    method: 'FindChild',
    permanent: {
      type: 'InvalidArgument',
      message: 'A specified parameter was not correct: entity',
      detail: el('invalidProperty', 'entity'),
    },
  },
  rebootVm: {
    method: 'ResetVM_Task',
    permanent: { type: 'NotSupported', message: 'The operation is not supported on the object.' },
  },
  setVmMetadata: {
    method: 'SetField',
    permanent: {
      type: 'InvalidArgument',
      message: 'A specified parameter was not correct: key',
      detail: el('invalidProperty', 'key'),
    },
  },
  createDisk: {
    method: 'CreateVirtualDisk_Task',
    permanent: {
      type: 'InvalidArgument',
      message: 'A specified parameter was not correct: spec.adapterType',
      detail: el('invalidProperty', 'spec.adapterType'),
    },
  },
  deleteDisk: {
    method: 'DeleteVirtualDisk_Task',
    permanent: {
      type: 'NoPermission',
      message: 'Permission to perform this operation was denied.',
      detail: el('privilegeId', 'Datastore.FileManagement'),
    },
  },
  attachDisk: {
    method: 'ReconfigVM_Task',
    permanent: {
      type: 'InvalidDeviceSpec',
      message: "Invalid configuration for device '0'.",
      detail: el('property', 'device') + el('deviceIndex', 0),
    },
  },
  detachDisk: {
    method: 'ReconfigVM_Task',
    permanent: {
      type: 'InvalidDeviceSpec',
      message: "Invalid configuration for device '0'.",
      detail: el('property', 'device') + el('deviceIndex', 0),
    },
  },
  hasDisk: {
    method: 'SearchDatastore_Task',
    permanent: {
      type: 'InvalidDatastorePath',
      message: "Invalid datastore path '[datastore1]'.",
      detail: el('datastorePath', '[datastore1]'),
    },
  },
  getDisks: {
    method: 'RetrievePropertiesEx',
    permanent: {
      type: 'InvalidProperty',
      message: 'The specified property is not valid: config.hardware.device',
      detail: el('name', 'config.hardware.device'),
    },
  },
  resizeDisk: {
    method: 'ExtendVirtualDisk_Task',
    permanent: {
      type: 'InvalidArgument',
      message: 'A specified parameter was not correct: newCapacityKb',
      detail: el('invalidProperty', 'newCapacityKb'),
    },
  },
  snapshotDisk: {
    method: 'CreateSnapshot_Task',
    permanent: { type: 'NotSupported', message: 'The operation is not supported on the object.' },
  },
  deleteSnapshot: {
    method: 'RemoveSnapshot_Task',
    permanent: { type: 'NotSupported', message: 'The operation is not supported on the object.' },
  },
};

/** Queued faults by vim25 method, random fault rates, added latency. */
export class FaultPlan {
  private readonly queued = new Map<string, Array<() => Error>>();
  private readonly tasks = new Map<string, InjectedTaskFault[]>();
  private rates = { throttle: 0, serverError: 0 };
  latencyMs = 0;

  enqueue(method: string, make: () => Error, count = 1): void {
    const list = this.queued.get(method) ?? [];
    for (let i = 0; i < count; i++) list.push(make);
    this.queued.set(method, list);
  }

  enqueueTask(method: string, fault: InjectedTaskFault, count = 1): void {
    const list = this.tasks.get(method) ?? [];
    for (let i = 0; i < count; i++) list.push(fault);
    this.tasks.set(method, list);
  }

  setRates(rates: { throttle?: number; serverError?: number }): void {
    this.rates = { throttle: rates.throttle ?? 0, serverError: rates.serverError ?? 0 };
  }

  /** The fault this request gets, if any: a queued one for its method first, then the random rates. */
  take(method: string): Error | undefined {
    const list = this.queued.get(method);
    const make = list?.shift();
    if (list && list.length === 0) this.queued.delete(method);
    if (make) return make();
    const roll = Math.random();
    if (roll < this.rates.throttle) return throttled();
    // Half of the random server errors come from the reverse proxy, half from vpxd itself.
    if (roll < this.rates.throttle + this.rates.serverError)
      return Math.random() < 0.5 ? proxyUnavailable() : systemError();
    return undefined;
  }

  /** The error the next task of `method` ends in, if a test asked for one. */
  takeTask(method: string): InjectedTaskFault | undefined {
    const list = this.tasks.get(method);
    const fault = list?.shift();
    if (list && list.length === 0) this.tasks.delete(method);
    return fault;
  }

  reset(): void {
    this.queued.clear();
    this.tasks.clear();
    this.rates = { throttle: 0, serverError: 0 };
    this.latencyMs = 0;
  }
}
