import type { IaasVerb } from '@slipway/simulation';
import { FakeApiError } from './http.js';
import type { OperationFailure } from './operations.js';

/** The Compute Engine method behind each contract verb, and a permanent refusal it could get, in GCE's words. */
export const METHOD_OF_VERB: Record<IaasVerb, { method: string; permanent: { reason: string; message: string } }> = {
  createStemcell: {
    method: 'images.insert',
    permanent: {
      reason: 'invalid',
      message:
        "Invalid value for field 'resource.rawDisk.source': 'https://storage.googleapis.com/slipway-stemcells/missing.tar.gz'. The referenced Cloud Storage object cannot be found.",
    },
  },
  deleteStemcell: {
    method: 'images.delete',
    permanent: {
      reason: 'invalid',
      message: "Invalid value for field 'image': 'slipway-base'. The image is protected against deletion.",
    },
  },
  createVm: {
    method: 'instances.insert',
    permanent: {
      reason: 'invalid',
      message:
        "Invalid value for field 'resource.machineType': 'zones/us-central1-a/machineTypes/e2-imaginary-64'. Machine type with name 'e2-imaginary-64' does not exist in zone 'us-central1-a'.",
    },
  },
  deleteVm: {
    method: 'instances.delete',
    permanent: {
      reason: 'invalid',
      message: "Invalid value for field 'instance': 'slipway-vm'. The instance has deletion protection enabled.",
    },
  },
  hasVm: {
    method: 'instances.get',
    permanent: {
      reason: 'invalid',
      message:
        "Invalid value for field 'instance': 'Slipway_VM'. Must be a match of regex '[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?|[1-9][0-9]{0,19}'",
    },
  },
  rebootVm: {
    method: 'instances.reset',
    permanent: {
      reason: 'invalid',
      message: "Invalid value for field 'instance': 'slipway-vm'. Instance is not in a state that allows reset.",
    },
  },
  setVmMetadata: {
    method: 'instances.setLabels',
    permanent: {
      reason: 'invalid',
      message:
        "Invalid value for field 'labels': ''. Label key 'Slipway' violates format constraints. The key must start with a lowercase character, can only contain lowercase letters, numeric characters, underscores and dashes.",
    },
  },
  createDisk: {
    method: 'disks.insert',
    permanent: {
      reason: 'invalid',
      message:
        "Invalid value for field 'resource.type': 'zones/us-central1-a/diskTypes/pd-imaginary'. Disk type 'pd-imaginary' does not exist in zone 'us-central1-a'.",
    },
  },
  deleteDisk: {
    method: 'disks.delete',
    permanent: {
      reason: 'invalid',
      message: "Invalid value for field 'disk': 'slipway-disk'. The disk is a boot disk of a running instance.",
    },
  },
  attachDisk: {
    method: 'instances.attachDisk',
    permanent: {
      reason: 'invalid',
      message:
        "Invalid value for field 'resource.source': 'projects/p/zones/us-central1-b/disks/d'. Disk must be in the same zone as the instance.",
    },
  },
  detachDisk: {
    method: 'instances.detachDisk',
    permanent: {
      reason: 'invalid',
      message: "Invalid value for field 'deviceName': 'persistent-disk-0'. Boot disk cannot be detached.",
    },
  },
  hasDisk: {
    method: 'disks.get',
    permanent: {
      reason: 'invalid',
      message:
        "Invalid value for field 'disk': 'Slipway_Disk'. Must be a match of regex '[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?|[1-9][0-9]{0,19}'",
    },
  },
  getDisks: {
    method: 'instances.get',
    permanent: {
      reason: 'invalid',
      message:
        "Invalid value for field 'instance': 'Slipway_VM'. Must be a match of regex '[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?|[1-9][0-9]{0,19}'",
    },
  },
  resizeDisk: {
    method: 'disks.resize',
    permanent: {
      reason: 'invalid',
      message:
        "Invalid value for field 'sizeGb': '5'. Requested disk size cannot be smaller than the current disk size (10 GB).",
    },
  },
  snapshotDisk: {
    method: 'disks.createSnapshot',
    permanent: {
      reason: 'invalid',
      message:
        "Invalid value for field 'resource.name': 'Slipway_Snapshot'. Must be a match of regex '[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?'",
    },
  },
  deleteSnapshot: {
    method: 'snapshots.delete',
    permanent: {
      reason: 'invalid',
      message: "Invalid value for field 'snapshot': 'slipway-snapshot'. The snapshot is in use by an image.",
    },
  },
};

/** An HTTP error to answer for a method, as `failNext` gives it. */
export interface InjectedError {
  status: number;
  /** `errors[0].reason`: `rateLimitExceeded`, `backendError`, `quotaExceeded`, `invalid`, `notFound`... */
  reason: string;
  message: string;
  domain?: string;
  /** Seconds, sent as `Retry-After`. */
  retryAfter?: number;
}

/** Compute's per-minute API rate limit, as a 429 `rateLimitExceeded`. */
export function throttleError(projectNumber: string): FakeApiError {
  return new FakeApiError(
    429,
    'rateLimitExceeded',
    `Quota exceeded for quota metric 'Queries' and limit 'Queries per minute' of service 'compute.googleapis.com' for consumer 'project_number:${projectNumber}'.`,
    'usageLimits',
  );
}

/** Compute's transient backend failure, as a 503 `backendError`. */
export function serverError(): FakeApiError {
  return new FakeApiError(
    503,
    'backendError',
    `Internal error. Please try again or contact Google Support. (Code: '${Math.random().toString(16).slice(2, 14).toUpperCase()}')`,
  );
}

/** Queued HTTP faults and operation failures by method, random fault rates, and added latency. */
export class FaultPlan {
  private readonly queued = new Map<string, Array<() => FakeApiError>>();
  private readonly operationFailures = new Map<string, OperationFailure[]>();
  private rates = { throttle: 0, serverError: 0 };
  latencyMs = 0;
  /** Requests failed on purpose so far (queued and random), kept across reset(). */
  injected = 0;

  constructor(private readonly projectNumber: string) {}

  enqueue(method: string, make: () => FakeApiError, count = 1): void {
    const list = this.queued.get(method) ?? [];
    for (let i = 0; i < count; i++) list.push(make);
    this.queued.set(method, list);
  }

  enqueueInjected(method: string, error: InjectedError, count = 1): void {
    const headers = error.retryAfter !== undefined ? { 'retry-after': String(error.retryAfter) } : undefined;
    this.enqueue(
      method,
      () => new FakeApiError(error.status, error.reason, error.message, error.domain ?? 'global', headers),
      count,
    );
  }

  enqueueOperationFailure(method: string, failure: OperationFailure, count = 1): void {
    const list = this.operationFailures.get(method) ?? [];
    for (let i = 0; i < count; i++) list.push(failure);
    this.operationFailures.set(method, list);
  }

  setRates(rates: { throttle?: number; serverError?: number }): void {
    this.rates = { throttle: rates.throttle ?? 0, serverError: rates.serverError ?? 0 };
  }

  /** The HTTP fault this request gets: a queued one for its method first, then the random rates. */
  take(method: string, random: boolean): FakeApiError | undefined {
    const list = this.queued.get(method);
    const make = list?.shift();
    if (list && list.length === 0) this.queued.delete(method);
    if (make) {
      this.injected++;
      return make();
    }
    if (!random) return undefined;
    const roll = Math.random();
    if (roll >= this.rates.throttle + this.rates.serverError) return undefined;
    this.injected++;
    return roll < this.rates.throttle ? throttleError(this.projectNumber) : serverError();
  }

  /** How the operation this request starts must end, if a failure was queued for its method. */
  takeOperationFailure(method: string): OperationFailure | undefined {
    const list = this.operationFailures.get(method);
    const failure = list?.shift();
    if (list && list.length === 0) this.operationFailures.delete(method);
    return failure;
  }

  reset(): void {
    this.queued.clear();
    this.operationFailures.clear();
    this.rates = { throttle: 0, serverError: 0 };
    this.latencyMs = 0;
  }
}
