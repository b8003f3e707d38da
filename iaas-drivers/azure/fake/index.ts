import { randomBytes, randomUUID } from 'node:crypto';
import type { FakeFaults, IaasVerb, StartedFake } from '@slipway/simulation';
import type { AzureConfig } from '../src/config.js';
import { VmAgents } from './agents.js';
import { computeRoutes, removeVm } from './compute.js';
import { diskRoutes } from './disks.js';
import { FaultPlan, OPERATION_OF_VERB, type InjectedError } from './faults.js';
import { ArmHttpError } from './http.js';
import { imageRoutes } from './images.js';
import { FakeImds } from './imds.js';
import { networkRoutes } from './network.js';
import { OperationRegistry, operationRoutes } from './operations.js';
import { createFakeTls } from './pki.js';
import type { FakeContext, FakeTimings, InjectedOperationFailure, LroStyle } from './routes.js';
import { FakeArmServer } from './server.js';
import { FakeAzureState } from './state.js';
import { FakeScheduler } from '@slipway/simulation';
import { tagRoutes } from './tags.js';

export type { InjectedError } from './faults.js';
export type { InjectedOperationFailure, LroStyle } from './routes.js';
export { OPERATION_OF_VERB } from './faults.js';
export type { FakeAzureState } from './state.js';

/** The VHD page blob every fake starts with: give it as `cloud_properties.source_uri` to make a managed image. */
export const FAKE_STEMCELL_BLOB =
  'https://slipwayfakestore.blob.core.windows.net/stemcells/ubuntu-noble-slipway-1.0.vhd';
/** The platform image the fake's config names as `marketplace_image`. */
export const FAKE_PLATFORM_IMAGE = {
  publisher: 'Canonical',
  offer: 'ubuntu-24_04-lts',
  sku: 'server',
  version: 'latest',
} as const;
export const FAKE_CREDENTIALS_REF = '/slipway/iaas/azure';
export const FAKE_LOCATION = 'westeurope';
/** The subnet's prefix: wide, so the addresses the conformance suite and tests pick all fit. */
export const FAKE_SUBNET_PREFIX = '10.0.0.0/8';

export interface FakeAzureOptions {
  /** The HTTPS port (ARM and Entra). Default 0: the OS picks one. */
  port?: number;
  /** A VM's Creating -> Succeeded, ms. Default 30. */
  provisionDelayMs?: number;
  /** Every other operation (NICs, disks, snapshots, images, attaches, deletes, restarts), ms. Default 10. */
  transitionDelayMs?: number;
  /** Lifetime of the Entra tokens, ms. Default one hour. */
  tokenTtlMs?: number;
  /** Boot a simulated node agent on every VM that provisions. Default true. */
  bootAgents?: boolean;
  /** Availability zones of the region. Default ['1', '2', '3']. */
  zones?: string[];
  /** Items per page before ARM hands out a nextLink. Default 20. */
  listPageSize?: number;
}

/** A running fake Azure: Entra's token endpoint and ARM over HTTPS with the fake's CA, IMDS over http. */
export interface AzureFake extends StartedFake<AzureConfig> {
  /** `https://127.0.0.1:PORT`: ARM (`/subscriptions/…`) and Entra (`/{tenant}/oauth2/v2.0/token`). */
  readonly url: string;
  /** PEM of the CA that signed the fake's serving certificate (the driver config carries it as `ca_cert`). */
  readonly caPem: string;
  /** The fake's state, for tests that look behind the API (read it; change it only through the API or faults). */
  readonly state: FakeAzureState;
  readonly faults: FakeFaults & { hangAgent(vmId: string): Promise<void> };
  /** The next `count` requests of an ARM operation (`VirtualMachines_CreateOrUpdate`, `Token_Request`...) fail with `error`. */
  failNext(operation: string, error: InjectedError, count?: number): void;
  /** The next operation of this operationId that ARM accepts ends Failed with this error (AllocationFailed by default). */
  failNextOperation(operation: string, failure?: InjectedOperationFailure): void;
  /** Announce long-running operations with only this header (default: each RP's own mix), and/or send Retry-After (seconds). */
  setLroBehaviour(behaviour: { style?: LroStyle; retryAfterSeconds?: number }): void;
  /** Invalidates every issued token, as a key rollover would: the next ARM call gets 401 InvalidAuthenticationToken. */
  revokeTokens(): void;
  /** How many requests of an operation (`Token_Request`, `VirtualMachines_Get`, `OperationStatus_Get`, `IMDS`...) the fake has received. */
  calls(operation: string): number;
  /** The IMDS base URL a VM's guest would see as http://169.254.169.254. */
  imdsUrl(vmName: string): string;
  /** Why a VM's agent could not boot, if it could not. */
  agentBootError(vmName: string): unknown;
}

/** Starts a wire-level fake of Azure (Entra ID, ARM Compute/Network/Resources, IMDS) on 127.0.0.1. */
export async function startFake(options: FakeAzureOptions = {}): Promise<AzureFake> {
  const app = { tenantId: randomUUID(), clientId: randomUUID(), clientSecret: randomBytes(24).toString('base64url') };
  const state = new FakeAzureState(randomUUID(), 'slipway-rg', FAKE_LOCATION, options.zones ?? ['1', '2', '3'], app);
  seed(state);
  const timings: FakeTimings = {
    provisionMs: options.provisionDelayMs ?? 30,
    transitionMs: options.transitionDelayMs ?? 10,
    tokenTtlMs: options.tokenTtlMs ?? 3_600_000,
  };
  const plan = new FaultPlan(state.subscriptionId);
  const scheduler = new FakeScheduler();
  let imds: FakeImds | undefined;
  const agents = new VmAgents((name) => imds!.urlOf(name), options.bootAgents ?? true);
  let ctx!: FakeContext;
  const operations = new OperationRegistry(() => ctx);
  ctx = {
    state,
    scheduler,
    agents,
    faults: plan,
    timings,
    operations,
    calls: new Map(),
    baseUrl: '',
    lro: { failures: new Map() },
    listPageSize: options.listPageSize ?? 20,
  };
  const [tls, imdsServer] = await Promise.all([createFakeTls(), FakeImds.start(ctx)]);
  imds = imdsServer;
  const routes = [
    ...operationRoutes(ctx),
    ...computeRoutes(ctx),
    ...diskRoutes(ctx),
    ...imageRoutes(ctx),
    ...networkRoutes(ctx),
    ...tagRoutes(ctx),
  ];
  const http = await FakeArmServer.start(ctx, routes, tls, options.port);
  ctx.baseUrl = http.url;

  const operationOf = (verb: IaasVerb) => OPERATION_OF_VERB[verb];
  const faults: AzureFake['faults'] = {
    throttleNext: (verb, count = 1) => plan.throttleNext(operationOf(verb).operation, count),
    serverErrorNext: (verb, count = 1) => plan.serverErrorNext(operationOf(verb).operation, count),
    permanentErrorNext: (verb, count = 1) => {
      const { operation, permanent } = operationOf(verb);
      plan.enqueue(
        operation,
        () => new ArmHttpError(permanent.status, permanent.code, permanent.message, {}, permanent.target),
        count,
      );
      return permanent.message;
    },
    setFaultRates: (rates) => plan.setRates(rates),
    setLatency: (ms) => {
      plan.latencyMs = ms;
    },
    async killVm(vmId) {
      // The VM was deleted behind the control plane's back, with its NIC and OS disk; its data disks detach.
      const vm = state.vms.get(vmId.toLowerCase());
      if (vm) await removeVm(ctx, vm, { takeAll: true });
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
      ctx.lro.failures.clear();
      delete ctx.lro.style;
      delete ctx.lro.retryAfterSeconds;
    },
  };

  return {
    url: http.url,
    caPem: tls.caPem,
    state,
    config: {
      subscription_id: state.subscriptionId,
      resource_group: state.resourceGroup,
      location: FAKE_LOCATION,
      subnet_id: state.subnets[0]!.id,
      credentials_ref: FAKE_CREDENTIALS_REF,
      ssh_public_key: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTheSlipwayAzureFakeOnly0000000000 slipway-fake',
      resource_manager_url: http.url,
      authority_url: http.url,
      ca_cert: tls.caPem,
      marketplace_image: { ...FAKE_PLATFORM_IMAGE },
      poll_interval_ms: 10,
    },
    credentials: [
      {
        name: FAKE_CREDENTIALS_REF,
        type: 'json',
        value: { tenant_id: app.tenantId, client_id: app.clientId, client_secret: app.clientSecret },
      },
    ],
    faults,
    failNext: (operation, error, count = 1) => plan.enqueueInjected(operation, error, count),
    failNextOperation: (
      operation,
      failure = {
        code: 'AllocationFailed',
        status: 409,
        message:
          'Allocation failed. We do not have sufficient capacity for the requested VM size in this region. Read more about improving likelihood of allocation success at http://aka.ms/allocation-guidance',
      },
    ) => {
      const list = ctx.lro.failures.get(operation) ?? [];
      list.push(failure);
      ctx.lro.failures.set(operation, list);
    },
    setLroBehaviour: (behaviour) => {
      if ('style' in behaviour) ctx.lro.style = behaviour.style;
      if ('retryAfterSeconds' in behaviour) ctx.lro.retryAfterSeconds = behaviour.retryAfterSeconds;
    },
    revokeTokens: () => state.tokens.clear(),
    calls: (operation) => ctx.calls.get(operation) ?? 0,
    imdsUrl: (name) => imds!.urlOf(name),
    agentBootError: (name) => agents.bootErrors.get(name.toLowerCase()),
    async stop() {
      scheduler.stop();
      await agents.stopAll();
      await Promise.all([http.stop(), imds!.stop()]);
    },
  };
}

function seed(state: FakeAzureState): void {
  state.subnets.push({
    id: `/subscriptions/${state.subscriptionId}/resourceGroups/${state.resourceGroup}/providers/Microsoft.Network/virtualNetworks/slipway-vnet/subnets/nodes`,
    addressPrefix: FAKE_SUBNET_PREFIX,
  });
  state.platformImages.push(
    {
      publisher: 'Canonical',
      offer: 'ubuntu-24_04-lts',
      sku: 'server',
      versions: ['24.04.202409120', '24.04.202410020', '24.04.202501140'],
    },
    {
      publisher: 'Canonical',
      offer: '0001-com-ubuntu-server-jammy',
      sku: '22_04-lts-gen2',
      versions: ['22.04.202404090', '22.04.202501140'],
    },
  );
  state.blobs.add(FAKE_STEMCELL_BLOB);
}
