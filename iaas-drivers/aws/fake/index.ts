import { randomBytes, randomInt } from 'node:crypto';
import type { FakeFaults, IaasVerb, StartedFake } from '@slipway/simulation';
import type { AwsConfig } from '../src/config.js';
import { VmAgents } from './agents.js';
import type { ActionHandler, ConsistencyLag, FakeContext, FakeTimings } from './context.js';
import { Ec2Error } from './errors.js';
import { FaultPlan, OPERATION_OF_VERB, serverError, throttleError, type InjectedError } from './faults.js';
import { deregisterImage, describeImages, registerImage } from './images.js';
import { describeInstances, rebootInstances, runInstances, terminateInstances } from './instances.js';
import { finishTermination } from './lifecycle.js';
import { describeAvailabilityZones, describeSubnets, zoneId } from './network.js';
import { FakeEc2Server } from './server.js';
import type { FakeAccessKey } from './sigv4.js';
import { AMAZON_OWNER_ID, createSnapshot, deleteSnapshot, describeSnapshots } from './snapshots.js';
import { FakeEc2State, ec2Id, isoNow } from './state.js';
import { FakeScheduler } from '@slipway/simulation';
import { createTags, deleteTags } from './tags.js';
import {
  attachVolume,
  createVolume,
  deleteVolume,
  describeVolumes,
  describeVolumesModifications,
  detachVolume,
  modifyVolume,
} from './volumes.js';

export type { InjectedError } from './faults.js';
export { OPERATION_OF_VERB } from './faults.js';
export type { FakeEc2State } from './state.js';
export type { FakeAccessKey } from './sigv4.js';

/** The public AMI every fake starts with: pass it as a light stemcell (`cloud_properties.ami_id`). */
export const FAKE_BASE_AMI_ID = 'ami-0f1a2b3c4d5e6f708';
/** A completed root-disk snapshot the fake's account owns: a stemcell can be registered from it (`cloud_properties.snapshot_id`). */
export const FAKE_ROOT_SNAPSHOT_ID = 'snap-0a1b2c3d4e5f60718';
export const FAKE_CREDENTIALS_REF = '/slipway/iaas/aws';

export interface FakeAwsOptions {
  /** Port on 127.0.0.1; default 0 (the OS picks one). */
  port?: number;
  /** Default us-east-1. */
  region?: string;
  /** Availability zones; default `<region>a` and `<region>b`. */
  zones?: string[];
  /** pending -> running, ms. Default 30. */
  pendingMs?: number;
  /** shutting-down -> terminated, ms. Default 20. */
  shuttingDownMs?: number;
  /** How long a terminated instance stays visible, ms. Default 60000 (about an hour on EC2). */
  terminatedRetentionMs?: number;
  /** Volume transitions (creating, attaching, detaching, deleting), ms. Default 10. */
  volumeMs?: number;
  /** Snapshot pending -> completed and AMI pending -> available, ms. Default 20. */
  snapshotMs?: number;
  /** Each step of a volume modification, ms. Default 10. */
  modifyMs?: number;
  /** How long a rebooting instance's agent is down, ms. Default 20. */
  rebootMs?: number;
  /** Eventual consistency: new resources are missed for this long, ms. Default 0 (off). */
  consistencyLagMs?: number;
  /** ... by this share of requests, 0..1. Default 1 (invisible for the whole lag). */
  consistencyMissRate?: number;
  /** Boot a simulated node agent on every instance that becomes running. Default true. */
  bootAgents?: boolean;
  /** The access key the fake accepts; a random one by default. */
  accessKey?: Partial<FakeAccessKey>;
}

/** A running fake EC2 (Query API, SigV4, IMDSv2) on one 127.0.0.1 port. */
export interface AwsFake extends StartedFake<AwsConfig> {
  /** `http://127.0.0.1:PORT`: EC2 at `/`, the metadata service under `/imds/{instance id}`. */
  readonly url: string;
  readonly region: string;
  readonly accessKey: FakeAccessKey;
  /** The fake's state, for tests that look behind the API (read it; change it only through the API or faults). */
  readonly state: FakeEc2State;
  readonly faults: FakeFaults & { hangAgent(vmId: string): Promise<void> };
  /** The next `count` requests of an EC2 action (`RunInstances`, `DescribeVolumes`...) fail with `error`. */
  failNext(action: string, error: InjectedError, count?: number): void;
  /** The next launched instance goes pending -> terminated with this state reason (default: no capacity). */
  failNextLaunch(reason?: { code: string; message: string }): void;
  /** New resources are missed for `ms` by `missRate` of the requests that name or list them (0 turns it off). */
  setConsistencyLag(ms: number, missRate?: number): void;
  /** How many requests of an EC2 action (`RunInstances`) or IMDS call (`IMDS PUT /latest/api/token`) the fake received. */
  calls(action: string): number;
  /** IMDS refuses every session token it issued (the readers must ask for new ones). */
  revokeMetadataTokens(): void;
  /** The metadata service base URL an instance would see as http://169.254.169.254. */
  metadataUrl(instanceId: string): string;
  /** Why an instance's agent could not boot, if it could not. */
  agentBootError(instanceId: string): unknown;
}

const ACTIONS: Record<string, ActionHandler> = {
  RunInstances: runInstances,
  DescribeInstances: describeInstances,
  TerminateInstances: terminateInstances,
  RebootInstances: rebootInstances,
  CreateTags: createTags,
  DeleteTags: deleteTags,
  CreateVolume: createVolume,
  DescribeVolumes: describeVolumes,
  AttachVolume: attachVolume,
  DetachVolume: detachVolume,
  DeleteVolume: deleteVolume,
  ModifyVolume: modifyVolume,
  DescribeVolumesModifications: describeVolumesModifications,
  CreateSnapshot: createSnapshot,
  DescribeSnapshots: describeSnapshots,
  DeleteSnapshot: deleteSnapshot,
  RegisterImage: registerImage,
  DescribeImages: describeImages,
  DeregisterImage: deregisterImage,
  DescribeAvailabilityZones: describeAvailabilityZones,
  DescribeSubnets: describeSubnets,
};

/** Starts a wire-level fake of EC2 on 127.0.0.1. */
export async function startFake(options: FakeAwsOptions = {}): Promise<AwsFake> {
  const region = options.region ?? 'us-east-1';
  const zones = options.zones ?? [`${region}a`, `${region}b`];
  const accessKey: FakeAccessKey = {
    accessKeyId: options.accessKey?.accessKeyId ?? `AKIA${randomBytes(12).toString('hex').toUpperCase().slice(0, 16)}`,
    secretAccessKey: options.accessKey?.secretAccessKey ?? randomBytes(30).toString('base64'),
    ...(options.accessKey?.sessionToken ? { sessionToken: options.accessKey.sessionToken } : {}),
  };
  const state = new FakeEc2State(
    String(randomInt(100_000_000, 999_999_999)).padStart(12, '3'),
    region,
    zones,
    ec2Id('vpc'),
  );
  const seeded = seed(state);
  const timings: FakeTimings = {
    pendingMs: options.pendingMs ?? 30,
    shuttingDownMs: options.shuttingDownMs ?? 20,
    terminatedRetentionMs: options.terminatedRetentionMs ?? 60_000,
    volumeMs: options.volumeMs ?? 10,
    snapshotMs: options.snapshotMs ?? 20,
    modifyMs: options.modifyMs ?? 10,
    rebootMs: options.rebootMs ?? 20,
  };
  const baseLag: ConsistencyLag = { ms: options.consistencyLagMs ?? 0, missRate: options.consistencyMissRate ?? 1 };
  const plan = new FaultPlan();
  const scheduler = new FakeScheduler();
  let baseUrl = '';
  const metadataUrl = (instanceId: string) => `${baseUrl}/imds/${instanceId}`;
  const agents = new VmAgents(metadataUrl, options.bootAgents ?? true);
  const ctx: FakeContext = {
    state,
    scheduler,
    agents,
    faults: plan,
    timings,
    lag: { ...baseLag },
    launchFailures: [],
    calls: new Map(),
  };
  const http = await FakeEc2Server.start(ctx, ACTIONS, accessKey, options.port ?? 0);
  baseUrl = http.url;

  const actionOf = (verb: IaasVerb) => OPERATION_OF_VERB[verb];
  const faults: AwsFake['faults'] = {
    throttleNext: (verb, count = 1) => plan.enqueue(actionOf(verb).action, throttleError, count),
    serverErrorNext: (verb, count = 1) => plan.enqueue(actionOf(verb).action, serverError, count),
    permanentErrorNext: (verb, count = 1) => {
      const { action, permanent } = actionOf(verb);
      plan.enqueue(action, () => new Ec2Error(permanent.code, permanent.message), count);
      return permanent.message;
    },
    setFaultRates: (rates) => plan.setRates(rates),
    setLatency: (ms) => {
      plan.latencyMs = ms;
    },
    async killVm(vmId) {
      // The host died: EC2 records an internal error and the instance ends terminated; its EBS volumes detach.
      const instance = state.instances.get(vmId);
      if (!instance || instance.state === 'terminated') return;
      instance.stateReason = { code: 'Server.InternalError', message: 'Server.InternalError: Internal error' };
      instance.stateTransitionReason = 'Server.InternalError';
      finishTermination(ctx, instance);
      await agents.stop(vmId);
    },
    hangAgent: (vmId) => agents.hang(vmId),
    setQuota: (quota) => {
      if (quota.vms !== undefined) state.quota.vms = quota.vms;
      if (quota.disks !== undefined) state.quota.disks = quota.disks;
    },
    reset: () => {
      plan.reset();
      delete state.quota.vms;
      delete state.quota.disks;
      ctx.launchFailures.length = 0;
      Object.assign(ctx.lag, baseLag);
    },
  };

  return {
    url: http.url,
    region,
    accessKey,
    state,
    config: {
      region,
      endpoint: http.url,
      credentials_ref: FAKE_CREDENTIALS_REF,
      subnet_id: seeded.subnetId,
      security_group_ids: [seeded.nodesGroupId],
      poll_interval_ms: 10,
    },
    credentials: [
      {
        name: FAKE_CREDENTIALS_REF,
        type: 'json',
        value: {
          access_key_id: accessKey.accessKeyId,
          secret_access_key: accessKey.secretAccessKey,
          ...(accessKey.sessionToken ? { session_token: accessKey.sessionToken } : {}),
        },
      },
    ],
    faults,
    failNext: (action, error, count = 1) => plan.enqueueInjected(action, error, count),
    failNextLaunch: (
      reason = {
        code: 'Server.InsufficientInstanceCapacity',
        message: 'Server.InsufficientInstanceCapacity: Insufficient capacity.',
      },
    ) => {
      ctx.launchFailures.push(reason);
    },
    setConsistencyLag: (ms, missRate = 1) => Object.assign(ctx.lag, { ms, missRate }),
    calls: (action) => ctx.calls.get(action) ?? 0,
    revokeMetadataTokens: () => http.imds.revokeTokens(),
    metadataUrl,
    agentBootError: (instanceId) => agents.bootErrors.get(instanceId),
    async stop() {
      scheduler.stop();
      await agents.stopAll();
      await http.stop();
    },
  };
}

/**
 * One VPC with a subnet per zone, a default and a nodes security group, a key pair, Amazon's public base AMI
 * and a root-disk snapshot of the account's own. The first subnet is 10.0.0.0/8, wider than EC2 allows (/16),
 * so every address the tests hand out fits.
 */
function seed(state: FakeEc2State): { subnetId: string; nodesGroupId: string } {
  state.zones.forEach((zone, index) => {
    const id = ec2Id('subnet');
    state.subnets.set(id, {
      id,
      vpcId: state.vpcId,
      zone,
      zoneId: zoneId(state.region, index),
      cidr: index === 0 ? '10.0.0.0/8' : `172.${16 + index}.0.0/16`,
    });
  });
  const defaultGroup = ec2Id('sg');
  const nodesGroup = ec2Id('sg');
  state.securityGroups.set(defaultGroup, { id: defaultGroup, name: 'default', vpcId: state.vpcId });
  state.securityGroups.set(nodesGroup, { id: nodesGroup, name: 'slipway-nodes', vpcId: state.vpcId });
  state.keyPairs.add('slipway');
  const created = isoNow();
  const publicSnapshot = 'snap-0b1c2d3e4f5a60718';
  state.snapshots.set(publicSnapshot, {
    id: publicSnapshot,
    volumeId: 'vol-ffffffff',
    volumeSize: 8,
    state: 'completed',
    progress: 100,
    startTime: created,
    description: 'Canonical, Ubuntu, 22.04 LTS',
    ownerId: AMAZON_OWNER_ID,
    encrypted: false,
    tags: new Map(),
    createdAt: 0,
  });
  state.images.set(FAKE_BASE_AMI_ID, {
    id: FAKE_BASE_AMI_ID,
    name: 'ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-slipway',
    description: 'Canonical, Ubuntu, 22.04 LTS, amd64',
    state: 'available',
    ownerId: AMAZON_OWNER_ID,
    isPublic: true,
    architecture: 'x86_64',
    rootDeviceName: '/dev/sda1',
    snapshotId: publicSnapshot,
    rootSize: 8,
    virtualizationType: 'hvm',
    enaSupport: true,
    imdsSupport: 'v2.0',
    tags: new Map(),
    creationDate: created,
    createdAt: 0,
  });
  state.snapshots.set(FAKE_ROOT_SNAPSHOT_ID, {
    id: FAKE_ROOT_SNAPSHOT_ID,
    volumeId: 'vol-ffffffff',
    volumeSize: 8,
    state: 'completed',
    progress: 100,
    startTime: created,
    description: 'slipway stemcell root disk',
    ownerId: state.accountId,
    encrypted: false,
    tags: new Map(),
    createdAt: 0,
  });
  const [subnetId] = state.subnets.keys();
  return { subnetId: subnetId!, nodesGroupId: nodesGroup };
}
