import { randomBytes } from 'node:crypto';
import type { FakeFaults, IaasVerb, StartedFake } from '@slipway/simulation';
import type { OpenStackConfig } from '../src/config.js';
import { VmAgents } from './agents.js';
import { cinderMount } from './cinder.js';
import { FaultPlan, OPERATION_OF_VERB, serverError, throttleError, type InjectedError } from './faults.js';
import { glanceMount } from './glance.js';
import { FakeHttpError } from './http.js';
import { keystoneMount } from './keystone.js';
import { metadataMount } from './metadata-service.js';
import { novaMount } from './nova.js';
import type { FakeContext, FakeTimings } from './routes.js';
import { FakeOpenStackServer } from './server.js';
import { FakeCloudState, now } from './state.js';
import { FakeScheduler } from '@slipway/simulation';

export type { InjectedError } from './faults.js';
export { OPERATION_OF_VERB } from './faults.js';
export type { FakeCloudState } from './state.js';

/** The id of the image every fake starts with: pass it as a light stemcell (`cloud_properties.image_id`). */
export const FAKE_BASE_IMAGE_ID = '6f1c2a9e-5b1d-4c1e-9a57-51a9e0b0c0de';
/** The Neutron network the fake knows; its config points VMs at it. */
export const FAKE_NETWORK_ID = 'b3a1f8e2-7c4d-4e0f-9a1b-2c3d4e5f6a7b';
export const FAKE_CREDENTIALS_REF = '/slipway/iaas/openstack';

export interface FakeOpenStackOptions {
  /** BUILD -> ACTIVE, ms. Default 30. */
  buildDelayMs?: number;
  /** Every other asynchronous transition (volumes, snapshots, detaches, deletes, reboots), ms. Default 10. */
  transitionDelayMs?: number;
  /** How long a deleted server still answers with status DELETED, ms. Default 50. */
  deletedRetentionMs?: number;
  /** Keystone token lifetime, ms. Default one hour. */
  tokenTtlMs?: number;
  /** Boot a simulated node agent on every server that becomes ACTIVE. Default true. */
  bootAgents?: boolean;
  /** Availability zones of Nova and Cinder. Default ['nova']. */
  zones?: string[];
  /** Port on 127.0.0.1; default: one the OS picks. */
  port?: number;
}

/** A running fake OpenStack (Keystone, Nova, Cinder, Glance and the metadata service on one 127.0.0.1 port). */
export interface OpenStackFake extends StartedFake<OpenStackConfig> {
  /** `http://127.0.0.1:PORT`; services live under /identity, /compute/v2.1, /volume/v3/{project}, /image, /metadata/{server}. */
  readonly url: string;
  /** The fake's state, for tests that look behind the API (read it; change it only through the API or faults). */
  readonly state: FakeCloudState;
  readonly faults: FakeFaults & { hangAgent(vmId: string): Promise<void> };
  /** The next `count` requests of an OpenStack operation (`createServer`, `extendVolume`, `createToken`...) fail with `error`. */
  failNext(operation: string, error: InjectedError, count?: number): void;
  /** The next created server goes to ERROR instead of ACTIVE, with this fault (default: No valid host). */
  failNextBuild(fault?: { code: number; message: string }): void;
  /** Invalidates every issued token, as a Keystone key rotation would: the next service call gets 401. */
  revokeTokens(): void;
  /** How many requests of an OpenStack operation (`createToken`, `showServer`...) the fake has received. */
  calls(operation: string): number;
  /** The metadata service base URL a server's guest would see as http://169.254.169.254. */
  metadataUrl(serverId: string): string;
  /** Why a server's agent could not boot, if it could not. */
  agentBootError(serverId: string): unknown;
}

/** Starts a wire-level fake of an OpenStack cloud on 127.0.0.1:0. */
export async function startFake(options: FakeOpenStackOptions = {}): Promise<OpenStackFake> {
  const password = randomBytes(12).toString('base64url');
  const state = new FakeCloudState(
    { id: randomBytes(16).toString('hex'), name: 'slipway', domain: 'Default' },
    { id: randomBytes(16).toString('hex'), name: 'slipway', domain: 'Default', password },
    FAKE_NETWORK_ID,
    options.zones ?? ['nova'],
  );
  seedBaseImage(state);
  const timings: FakeTimings = {
    buildMs: options.buildDelayMs ?? 30,
    transitionMs: options.transitionDelayMs ?? 10,
    deletedRetentionMs: options.deletedRetentionMs ?? 50,
    tokenTtlMs: options.tokenTtlMs ?? 3_600_000,
  };
  const plan = new FaultPlan();
  const scheduler = new FakeScheduler();
  let baseUrl = '';
  const metadataUrl = (serverId: string) => `${baseUrl}/metadata/${serverId}`;
  const agents = new VmAgents(metadataUrl, options.bootAgents ?? true);
  const ctx: FakeContext = {
    state,
    scheduler,
    agents,
    faults: plan,
    timings,
    buildFailures: [],
    calls: new Map(),
    baseUrl,
  };
  const http = await FakeOpenStackServer.start(
    ctx,
    [keystoneMount(ctx), novaMount(ctx), cinderMount(ctx), glanceMount(ctx), metadataMount(ctx)],
    options.port,
  );
  baseUrl = ctx.baseUrl = http.url;

  const operationOf = (verb: IaasVerb) => OPERATION_OF_VERB[verb];
  const faults: OpenStackFake['faults'] = {
    throttleNext: (verb, count = 1) => plan.enqueue(operationOf(verb).operation, throttleError, count),
    serverErrorNext: (verb, count = 1) => plan.enqueue(operationOf(verb).operation, serverError, count),
    permanentErrorNext: (verb, count = 1) => {
      const { operation, permanent } = operationOf(verb);
      plan.enqueue(operation, () => new FakeHttpError(permanent.status, permanent.message), count);
      return permanent.message;
    },
    setFaultRates: (rates) => plan.setRates(rates),
    setLatency: (ms) => {
      plan.latencyMs = ms;
    },
    async killVm(vmId) {
      // The hypervisor died and the server was evacuated to nowhere: it is gone, its volumes are free.
      if (!state.servers.has(vmId)) return;
      state.detachAll(vmId);
      state.servers.delete(vmId);
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
      ctx.buildFailures.length = 0;
    },
  };

  return {
    url: http.url,
    state,
    config: {
      auth_url: `${http.url}/identity/v3`,
      credentials_ref: FAKE_CREDENTIALS_REF,
      region: 'RegionOne',
      network_id: FAKE_NETWORK_ID,
      poll_interval_ms: 10,
    },
    credentials: [
      {
        name: FAKE_CREDENTIALS_REF,
        type: 'json',
        value: {
          username: state.user.name,
          password,
          user_domain_name: state.user.domain,
          project_name: state.project.name,
          project_domain_name: state.project.domain,
        },
      },
    ],
    faults,
    failNext: (operation, error, count = 1) => plan.enqueueInjected(operation, error, count),
    failNextBuild: (
      fault = { code: 500, message: 'No valid host was found. There are not enough hosts available.' },
    ) => {
      ctx.buildFailures.push(fault);
    },
    revokeTokens: () => state.tokens.clear(),
    calls: (operation) => ctx.calls.get(operation) ?? 0,
    metadataUrl,
    agentBootError: (serverId) => agents.bootErrors.get(serverId),
    async stop() {
      scheduler.stop();
      await agents.stopAll();
      await http.stop();
    },
  };
}

function seedBaseImage(state: FakeCloudState): void {
  const created = now();
  state.images.set(FAKE_BASE_IMAGE_ID, {
    id: FAKE_BASE_IMAGE_ID,
    name: 'ubuntu-jammy-slipway-base',
    status: 'active',
    diskFormat: 'qcow2',
    containerFormat: 'bare',
    visibility: 'public',
    properties: { os_distro: 'ubuntu', os_version: '22.04' },
    size: 2147483648,
    checksum: 'd41d8cd98f00b204e9800998ecf8427e',
    hash: null,
    owner: state.project.id,
    created,
    updated: created,
  });
}
