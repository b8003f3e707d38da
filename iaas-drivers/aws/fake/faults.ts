import type { IaasVerb } from '@slipway/simulation';
import { Ec2Error } from './errors.js';

/** The EC2 action behind each contract verb, and a permanent error EC2 really answers for it. */
export const OPERATION_OF_VERB: Record<IaasVerb, { action: string; permanent: { code: string; message: string } }> = {
  createStemcell: {
    action: 'RegisterImage',
    permanent: {
      code: 'InvalidParameterValue',
      message: 'Value (arm65) for parameter architecture is invalid. Valid values: i386, x86_64, arm64.',
    },
  },
  deleteStemcell: {
    action: 'DeregisterImage',
    permanent: {
      code: 'InvalidParameterValue',
      message: 'The image is used by an instance in the stopped state and cannot be deregistered.',
    },
  },
  createVm: {
    action: 'RunInstances',
    permanent: { code: 'InvalidParameterValue', message: "Invalid value 't3.enormous' for InstanceType." },
  },
  deleteVm: {
    action: 'TerminateInstances',
    permanent: {
      code: 'OperationNotPermitted',
      message:
        "The instance 'i-0123456789abcdef0' may not be terminated. Modify its 'disableApiTermination' instance attribute and try again.",
    },
  },
  hasVm: {
    action: 'DescribeInstances',
    permanent: { code: 'InvalidParameterValue', message: "The filter 'instance-state' is invalid" },
  },
  rebootVm: {
    action: 'RebootInstances',
    permanent: {
      code: 'UnsupportedOperation',
      message: 'The instance does not support rebooting while it is hibernated.',
    },
  },
  setVmMetadata: {
    action: 'CreateTags',
    permanent: { code: 'InvalidParameterValue', message: 'Tag key exceeds the maximum length of 128 characters' },
  },
  createDisk: {
    action: 'CreateVolume',
    permanent: {
      code: 'InvalidParameterValue',
      message:
        'The volume size is invalid for gp3 volumes: 1 GiB. gp3 volumes must be at least 1 GiB and at most 16384 GiB in size.',
    },
  },
  deleteDisk: {
    action: 'DeleteVolume',
    permanent: {
      code: 'InvalidParameterValue',
      message: 'Volume is a root volume and cannot be deleted while the instance exists.',
    },
  },
  attachDisk: {
    action: 'AttachVolume',
    permanent: {
      code: 'InvalidVolume.ZoneMismatch',
      message:
        "The volume 'vol-0123456789abcdef0' is not in the same availability zone as instance 'i-0123456789abcdef0'",
    },
  },
  detachDisk: {
    action: 'DetachVolume',
    permanent: { code: 'OperationNotPermitted', message: 'Unable to detach root volume from the instance.' },
  },
  hasDisk: {
    action: 'DescribeVolumes',
    permanent: { code: 'InvalidParameterValue', message: "The filter 'volume-status' is invalid" },
  },
  getDisks: {
    action: 'DescribeInstances',
    permanent: { code: 'InvalidParameterValue', message: "The filter 'instance-state' is invalid" },
  },
  resizeDisk: {
    action: 'ModifyVolume',
    permanent: { code: 'InvalidParameterValue', message: 'New size cannot be smaller than existing size' },
  },
  snapshotDisk: {
    action: 'CreateSnapshot',
    permanent: { code: 'InvalidParameterValue', message: 'The snapshot description is longer than 255 characters.' },
  },
  deleteSnapshot: {
    action: 'DeleteSnapshot',
    permanent: {
      code: 'InvalidSnapshot.InUse',
      message: 'The snapshot snap-0123456789abcdef0 is currently in use by ami-0123456789abcdef0',
    },
  },
};

/** An error to answer for an action, as `failNext` takes it. */
export interface InjectedError {
  /** EC2's error code (`RequestLimitExceeded`, `InvalidParameterValue`, `InsufficientInstanceCapacity`). */
  code: string;
  message: string;
  /** HTTP status; derived from the code when absent (503 throttling, 500 internal, 400 otherwise). */
  status?: number;
  /** The action is carried out and only its answer is this error (a 5xx after EC2 did the work). */
  lostAnswer?: boolean;
}

/** EC2's throttling answer. */
export function throttleError(): Ec2Error {
  return new Ec2Error('RequestLimitExceeded', 'Request limit exceeded.', 503);
}

/** EC2's internal error. */
export function serverError(): Ec2Error {
  return new Ec2Error('InternalError', 'An internal error has occurred', 500);
}

/** The status EC2 answers a code with, when a test does not say. */
export function statusOfCode(code: string): number {
  switch (code) {
    case 'RequestLimitExceeded':
    case 'Unavailable':
    case 'ServiceUnavailable':
      return 503;
    case 'InternalError':
    case 'InsufficientInstanceCapacity':
      return 500;
    case 'AuthFailure':
      return 401;
    case 'UnauthorizedOperation':
    case 'SignatureDoesNotMatch':
      return 403;
    default:
      return 400;
  }
}

/**
 * A fault for one request. `after`: the action ran and only its answer is lost (a 5xx after EC2 did the work),
 * which is what makes idempotency tokens necessary; throttled requests never run.
 */
export interface PlannedFault {
  error: Ec2Error;
  when: 'before' | 'after';
}

/** Queued and random faults by EC2 action, added latency. */
export class FaultPlan {
  private readonly queued = new Map<string, Array<() => PlannedFault>>();
  private rates = { throttle: 0, serverError: 0 };
  latencyMs = 0;

  enqueue(action: string, make: () => Ec2Error, count = 1, when: PlannedFault['when'] = 'before'): void {
    const list = this.queued.get(action) ?? [];
    for (let i = 0; i < count; i++) list.push(() => ({ error: make(), when }));
    this.queued.set(action, list);
  }

  enqueueInjected(action: string, error: InjectedError, count = 1): void {
    this.enqueue(
      action,
      () => new Ec2Error(error.code, error.message, error.status ?? statusOfCode(error.code)),
      count,
      error.lostAnswer ? 'after' : 'before',
    );
  }

  setRates(rates: { throttle?: number; serverError?: number }): void {
    this.rates = { throttle: rates.throttle ?? 0, serverError: rates.serverError ?? 0 };
  }

  /**
   * The fault this request gets, if any: a queued one for its action first, then the random rates; half of the
   * random 5xx come after the action ran.
   */
  take(action: string): PlannedFault | undefined {
    const list = this.queued.get(action);
    const make = list?.shift();
    if (list && list.length === 0) this.queued.delete(action);
    if (make) return make();
    const roll = Math.random();
    if (roll < this.rates.throttle) return { error: throttleError(), when: 'before' };
    if (roll < this.rates.throttle + this.rates.serverError)
      return { error: serverError(), when: Math.random() < 0.5 ? 'before' : 'after' };
    return undefined;
  }

  reset(): void {
    this.queued.clear();
    this.rates = { throttle: 0, serverError: 0 };
    this.latencyMs = 0;
  }
}
