import type { CredentialType } from '@slipway/contracts';

/** What a driver package's `fake/index.ts` `startFake()` returns. */
export interface StartedFake<C = unknown> {
  /** Driver config pointing at this fake (endpoint URL, region, credentials_ref...). */
  config: C;
  /** Credentials the config references by name; the test host's credential provider is seeded with them. */
  credentials?: Array<{ name: string; type: CredentialType; value: unknown }>;
  /** Generic fault knobs every fake offers; the conformance suite uses only these. */
  faults: FakeFaults;
  /**
   * What the fake's cloud holds, read behind the driver's back, for the suite to check effects the contract
   * verbs cannot show: a disk's size after `resizeDisk` on a driver without the `inventory` capability.
   */
  inspect?: FakeInspection;
  /** Stops the fake's servers and every agent its VMs booted. */
  stop(): Promise<void>;
}

export interface FakeInspection {
  /** The disk's size in MiB as the cloud holds it; undefined when the cloud has no such disk. */
  diskSizeMb?(diskId: string): Promise<number | undefined>;
}

/** Contract verb names, used to aim faults: each fake maps them to its cloud's operation (createVm -> RunInstances). */
export type IaasVerb =
  | 'createStemcell'
  | 'deleteStemcell'
  | 'createVm'
  | 'deleteVm'
  | 'hasVm'
  | 'rebootVm'
  | 'setVmMetadata'
  | 'createDisk'
  | 'deleteDisk'
  | 'attachDisk'
  | 'detachDisk'
  | 'hasDisk'
  | 'getDisks'
  | 'resizeDisk'
  | 'snapshotDisk'
  | 'deleteSnapshot';

export interface FakeFaults {
  /** The next `count` (default 1) requests of the operation behind `verb` fail with the cloud's own throttling error. */
  throttleNext(verb: IaasVerb, count?: number): void;
  /** ... fail with the cloud's own 5xx internal error. */
  serverErrorNext(verb: IaasVerb, count?: number): void;
  /**
   * ... fail with a permanent cloud error (invalid parameter / unknown image), with a recognisable message.
   * A fake may return that message's text: the conformance suite then checks that the driver's error keeps it.
   */
  permanentErrorNext(verb: IaasVerb, count?: number): void | string;
  /** Random faults on every request of the cloud API (0..1 each), e.g. { throttle: 0.1, serverError: 0.1 }. */
  setFaultRates(rates: { throttle?: number; serverError?: number }): void;
  /** Latency added to every request, in ms. */
  setLatency(ms: number): void;
  /** The VM dies as if its host failed: it disappears (or becomes terminated), its agent stops. */
  killVm(vmId: string): Promise<void>;
  /** Quota: at most `vms` VMs may exist; further creates fail with the cloud's quota error. */
  setQuota(quota: { vms?: number; disks?: number }): void;
  /** Clears every fault, rate, latency and quota. */
  reset(): void;
}
