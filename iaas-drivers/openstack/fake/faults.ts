import type { IaasVerb } from '@slipway/simulation';
import { FakeHttpError, type FakeService } from './http.js';

/** The OpenStack API operation behind each contract verb, named as in the API reference. */
export const OPERATION_OF_VERB: Record<
  IaasVerb,
  { service: FakeService; operation: string; permanent: { status: number; message: string } }
> = {
  createStemcell: {
    service: 'image',
    operation: 'createImage',
    permanent: {
      status: 400,
      message:
        "Invalid value 'qcow3' for parameter 'disk_format': Image disk format must be one of ami, ari, aki, vhd, vhdx, vmdk, raw, qcow2, vdi, iso, ploop",
    },
  },
  deleteStemcell: {
    service: 'image',
    operation: 'deleteImage',
    permanent: { status: 403, message: 'Image is protected, cannot be deleted.' },
  },
  createVm: {
    service: 'compute',
    operation: 'createServer',
    permanent: { status: 400, message: 'Invalid imageRef provided.' },
  },
  deleteVm: {
    service: 'compute',
    operation: 'deleteServer',
    permanent: { status: 400, message: 'Invalid input for field/attribute server. Server is locked.' },
  },
  hasVm: {
    service: 'compute',
    operation: 'showServer',
    permanent: { status: 400, message: 'Invalid input for field/attribute server_id. Value: malformed.' },
  },
  rebootVm: {
    service: 'compute',
    operation: 'rebootServer',
    permanent: { status: 400, message: 'Invalid input for field/attribute reboot.type. Value: HARDER.' },
  },
  setVmMetadata: {
    service: 'compute',
    operation: 'createOrUpdateServerMetadataItems',
    permanent: { status: 400, message: 'Invalid input for field/attribute metadata. Value is too long.' },
  },
  createDisk: {
    service: 'volume',
    operation: 'createVolume',
    permanent: { status: 400, message: "Invalid input received: Availability zone 'nowhere' is invalid." },
  },
  deleteDisk: {
    service: 'volume',
    operation: 'deleteVolume',
    permanent: { status: 400, message: 'Invalid volume: Volume still has 1 dependent snapshots.' },
  },
  attachDisk: {
    service: 'compute',
    operation: 'attachVolume',
    permanent: { status: 400, message: 'Invalid volume: volume is in an unsupported state for attach.' },
  },
  detachDisk: {
    service: 'compute',
    operation: 'detachVolume',
    permanent: { status: 400, message: 'Invalid volume: Unable to detach the root volume.' },
  },
  hasDisk: {
    service: 'volume',
    operation: 'showVolume',
    permanent: { status: 400, message: 'Invalid input received: volume id is malformed.' },
  },
  getDisks: {
    service: 'compute',
    operation: 'listVolumeAttachments',
    permanent: { status: 400, message: 'Invalid input for query parameters limit.' },
  },
  resizeDisk: {
    service: 'volume',
    operation: 'extendVolume',
    permanent: {
      status: 400,
      message: 'Invalid input received: New size for extend must be greater than current size.',
    },
  },
  snapshotDisk: {
    service: 'volume',
    operation: 'createSnapshot',
    permanent: { status: 400, message: 'Invalid volume: Volume is in maintenance.' },
  },
  deleteSnapshot: {
    service: 'volume',
    operation: 'deleteSnapshot',
    permanent: { status: 400, message: 'Invalid snapshot: Snapshot status must be available or error.' },
  },
};

/** An error to answer for an operation, as a cloud-specific `failNext` gives it. */
export interface InjectedError {
  status: number;
  message: string;
  /** Nova/Cinder fault name; derived from the status when absent. */
  kind?: string;
  /** Seconds, sent as `Retry-After` (and `retryAfter` in Nova/Cinder bodies). */
  retryAfter?: number;
}

/** The services' own throttling answer: Nova/Cinder `overLimit` 413, Glance (behind its proxy) a 429 page. */
export function throttleError(service: FakeService): FakeHttpError {
  return service === 'image'
    ? new FakeHttpError(429, 'Too many requests, please slow down.', undefined, { 'retry-after': '1' })
    : new FakeHttpError(413, 'This request was rate-limited.', 'overLimit', { 'retry-after': '1' });
}

/** The services' own 500s. */
export function serverError(service: FakeService): FakeHttpError {
  return service === 'compute'
    ? new FakeHttpError(
        500,
        "Unexpected API Error. Please report this at http://bugs.launchpad.net/nova/ and attach the Nova API log if possible.\n<class 'oslo_messaging.exceptions.MessagingTimeout'>",
        'computeFault',
      )
    : new FakeHttpError(
        500,
        'The server has either erred or is incapable of performing the requested operation.',
        'computeFault',
      );
}

/** Queued and random faults by operation, and added latency. */
export class FaultPlan {
  private readonly queued = new Map<string, Array<(service: FakeService) => FakeHttpError>>();
  private rates: { throttle: number; serverError: number } = { throttle: 0, serverError: 0 };
  latencyMs = 0;

  enqueue(operation: string, make: (service: FakeService) => FakeHttpError, count = 1): void {
    const list = this.queued.get(operation) ?? [];
    for (let i = 0; i < count; i++) list.push(make);
    this.queued.set(operation, list);
  }

  enqueueInjected(operation: string, error: InjectedError, count = 1): void {
    const headers = error.retryAfter !== undefined ? { 'retry-after': String(error.retryAfter) } : undefined;
    this.enqueue(operation, () => new FakeHttpError(error.status, error.message, error.kind, headers), count);
  }

  setRates(rates: { throttle?: number; serverError?: number }): void {
    this.rates = { throttle: rates.throttle ?? 0, serverError: rates.serverError ?? 0 };
  }

  /** The fault this request gets, if any: a queued one for its operation first, then the random rates. */
  take(service: FakeService, operation: string, random = true): FakeHttpError | undefined {
    const list = this.queued.get(operation);
    const make = list?.shift();
    if (list && list.length === 0) this.queued.delete(operation);
    if (make) return make(service);
    if (!random) return undefined;
    const roll = Math.random();
    if (roll < this.rates.throttle) return throttleError(service);
    if (roll < this.rates.throttle + this.rates.serverError) return serverError(service);
    return undefined;
  }

  reset(): void {
    this.queued.clear();
    this.rates = { throttle: 0, serverError: 0 };
    this.latencyMs = 0;
  }
}
