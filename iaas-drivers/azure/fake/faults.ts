import { randomUUID } from 'node:crypto';
import type { IaasVerb } from '@slipway/simulation';
import { ArmHttpError } from './http.js';

/** The ARM operation (operationId) behind each contract verb, and a permanent refusal Azure gives for it. */
export const OPERATION_OF_VERB: Record<
  IaasVerb,
  { operation: string; permanent: { status: number; code: string; message: string; target?: string } }
> = {
  createStemcell: {
    operation: 'Images_CreateOrUpdate',
    permanent: {
      status: 400,
      code: 'InvalidParameter',
      message: 'The provided blob URI is not a page blob. Only page blobs can be the source of an image.',
      target: 'blobUri',
    },
  },
  deleteStemcell: {
    operation: 'Images_Delete',
    permanent: {
      status: 409,
      code: 'ScopeLocked',
      message:
        'The scope cannot perform delete operation because following scope(s) are locked. Please remove the lock and try again.',
    },
  },
  createVm: {
    operation: 'VirtualMachines_CreateOrUpdate',
    permanent: {
      status: 400,
      code: 'InvalidParameter',
      message: 'The value of parameter imageReference is invalid.',
      target: 'imageReference',
    },
  },
  deleteVm: {
    operation: 'VirtualMachines_Delete',
    permanent: {
      status: 409,
      code: 'ScopeLocked',
      message:
        'The scope cannot perform delete operation because following scope(s) are locked. Please remove the lock and try again.',
    },
  },
  hasVm: {
    operation: 'VirtualMachines_Get',
    permanent: {
      status: 400,
      code: 'InvalidResourceName',
      message: 'Resource name is invalid. The name can be up to 64 characters long.',
    },
  },
  rebootVm: {
    operation: 'VirtualMachines_Restart',
    permanent: {
      status: 409,
      code: 'OperationNotAllowed',
      message:
        "Operation 'restart' is not allowed on the VM since the VM is marked for deletion. You can only retry the Delete operation (or wait for an ongoing one to complete).",
    },
  },
  setVmMetadata: {
    operation: 'Tags_UpdateAtScope',
    permanent: {
      status: 400,
      code: 'InvalidTagNameCharacters',
      message: "The tag names 'a<b' have reserved characters '<,>,%,&,\\,?,/' or control characters.",
    },
  },
  createDisk: {
    operation: 'Disks_CreateOrUpdate',
    permanent: {
      status: 400,
      code: 'InvalidParameter',
      message: "Required parameter 'diskSizeGB' is missing (null).",
      target: 'diskSizeGB',
    },
  },
  deleteDisk: {
    operation: 'Disks_Delete',
    permanent: {
      status: 409,
      code: 'ScopeLocked',
      message:
        'The scope cannot perform delete operation because following scope(s) are locked. Please remove the lock and try again.',
    },
  },
  attachDisk: {
    operation: 'VirtualMachines_Update',
    permanent: {
      status: 400,
      code: 'InvalidParameter',
      message: 'A disk at LUN 0 already exists.',
      target: 'dataDisks',
    },
  },
  detachDisk: {
    operation: 'VirtualMachines_Update',
    permanent: {
      status: 400,
      code: 'InvalidParameter',
      message: 'Data disk with LUN 0 cannot be detached while the VM is being reimaged.',
      target: 'dataDisks',
    },
  },
  hasDisk: {
    operation: 'Disks_Get',
    permanent: {
      status: 400,
      code: 'InvalidResourceName',
      message: 'Resource name is invalid. The name can be up to 80 characters long.',
    },
  },
  getDisks: {
    operation: 'VirtualMachines_Get',
    permanent: {
      status: 400,
      code: 'InvalidResourceName',
      message: 'Resource name is invalid. The name can be up to 64 characters long.',
    },
  },
  resizeDisk: {
    operation: 'Disks_Update',
    permanent: {
      status: 409,
      code: 'OperationNotAllowed',
      message: 'Disk resizing is allowed only when creating a VM or when the VM is deallocated.',
      target: 'disk.diskSizeGB',
    },
  },
  snapshotDisk: {
    operation: 'Snapshots_CreateOrUpdate',
    permanent: {
      status: 400,
      code: 'InvalidParameter',
      message: 'Incremental snapshots of Ultra disks are not supported.',
      target: 'incremental',
    },
  },
  deleteSnapshot: {
    operation: 'Snapshots_Delete',
    permanent: {
      status: 409,
      code: 'ScopeLocked',
      message:
        'The scope cannot perform delete operation because following scope(s) are locked. Please remove the lock and try again.',
    },
  },
};

/** An error to answer for an operation, as `failNext` gives it. */
export interface InjectedError {
  status: number;
  code: string;
  message: string;
  target?: string;
  /** Seconds, sent as `Retry-After`. */
  retryAfter?: number;
}

/** ARM's throttling answer (subscription write/read limits), with the Retry-After it sends. */
export function throttleError(subscriptionId: string, write: boolean, seconds = 1): ArmHttpError {
  return new ArmHttpError(
    429,
    'TooManyRequests',
    `Number of '${write ? 'write' : 'read'}' requests for subscription '${subscriptionId}' exceeded. Please try again after '${seconds}' seconds after additional tokens are available. Refer to https://aka.ms/arm-throttling`,
    { 'retry-after': String(seconds) },
  );
}

/** ARM's 500, with the diagnostic sentence it prints. */
export function serverError(subscriptionId: string): ArmHttpError {
  return new ArmHttpError(
    500,
    'InternalServerError',
    `Encountered internal server error. Diagnostic information: timestamp '${new Date().toISOString()}', subscription id '${subscriptionId}', tracking id '${randomUUID()}'.`,
  );
}

type ErrorMaker = (write: boolean) => ArmHttpError;

/** Queued and random faults by operation, and added latency. */
export class FaultPlan {
  private readonly queued = new Map<string, ErrorMaker[]>();
  private rates = { throttle: 0, serverError: 0 };
  latencyMs = 0;

  constructor(private readonly subscriptionId: string) {}

  enqueue(operation: string, make: ErrorMaker, count = 1): void {
    const list = this.queued.get(operation) ?? [];
    for (let i = 0; i < count; i++) list.push(make);
    this.queued.set(operation, list);
  }

  throttleNext(operation: string, count = 1): void {
    this.enqueue(operation, (write) => throttleError(this.subscriptionId, write), count);
  }

  serverErrorNext(operation: string, count = 1): void {
    this.enqueue(operation, () => serverError(this.subscriptionId), count);
  }

  enqueueInjected(operation: string, error: InjectedError, count = 1): void {
    const headers = error.retryAfter !== undefined ? { 'retry-after': String(error.retryAfter) } : undefined;
    this.enqueue(
      operation,
      () => new ArmHttpError(error.status, error.code, error.message, headers, error.target),
      count,
    );
  }

  setRates(rates: { throttle?: number; serverError?: number }): void {
    this.rates = { throttle: rates.throttle ?? 0, serverError: rates.serverError ?? 0 };
  }

  /** The fault this request gets, if any: a queued one for its operation first, then the random rates. */
  take(operation: string, write: boolean, random = true): ArmHttpError | undefined {
    const list = this.queued.get(operation);
    const make = list?.shift();
    if (list && list.length === 0) this.queued.delete(operation);
    if (make) return make(write);
    if (!random) return undefined;
    const roll = Math.random();
    if (roll < this.rates.throttle) return throttleError(this.subscriptionId, write);
    if (roll < this.rates.throttle + this.rates.serverError) return serverError(this.subscriptionId);
    return undefined;
  }

  reset(): void {
    this.queued.clear();
    this.rates = { throttle: 0, serverError: 0 };
    this.latencyMs = 0;
  }
}
