import { randomBytes } from 'node:crypto';
import type { FakeFaults, IaasVerb, StartedFake } from '@slipway/simulation';
import type { VsphereConfig } from '../src/config.js';
import { fetchTls } from '../src/tls.js';
import { VmAgents } from './agents.js';
import type { CloneRecord, FakeContext, FakeTimings } from './context.js';
import {
  FaultPlan,
  METHOD_OF_VERB,
  VimFaultError,
  proxyUnavailable,
  throttled,
  toError,
  type InjectedFault,
  type InjectedTaskFault,
} from './faults.js';
import { FAKE_INVENTORY, seedInventory } from './seed.js';
import { FakeVcenterServer } from './server.js';
import { FakeInventory, type FakeVm } from './state.js';
import { TaskRunner } from './tasks.js';
import { FakeScheduler } from '@slipway/simulation';
import { createFakeTls } from './tls.js';

export type { InjectedFault, InjectedTaskFault } from './faults.js';
export { METHOD_OF_VERB } from './faults.js';
export { FAKE_INVENTORY } from './seed.js';
export type { FakeInventory, FakeVm, FakeDiskFile } from './state.js';
export type { CloneRecord } from './context.js';

export const FAKE_CREDENTIALS_REF = '/slipway/iaas/vsphere';

export interface FakeVsphereOptions {
  /** Port on 127.0.0.1; 0 (the default) lets the OS choose. */
  port?: number;
  /** How long a task runs before it succeeds or fails, ms. Default 5. */
  taskDelayMs?: number;
  /** How long CloneVM_Task runs, ms. Default 20. */
  cloneDelayMs?: number;
  /** A session unused this long is gone, ms. Default 30 minutes (vCenter's default). */
  sessionIdleMs?: number;
  /** Boot a simulated node agent in every VM that powers on. Default true. */
  bootAgents?: boolean;
}

/** A running fake vCenter: the vim25 SOAP API at https://127.0.0.1:PORT/sdk and each VM's guestinfo. */
export interface VsphereFake extends StartedFake<VsphereConfig> {
  /** `https://127.0.0.1:PORT` */
  readonly url: string;
  /** PEM of the fake's own CA (the config's `ca_cert`). */
  readonly caPem: string;
  /** The fake's state, for tests that look behind the API (read it; change it only through the API or faults). */
  readonly inventory: FakeInventory;
  readonly faults: FakeFaults & { hangAgent(vmId: string): Promise<void> };
  /** The next `count` calls of a vim25 method (`CloneVM_Task`, `Login`...) fail with `fault`: a SOAP fault or an HTTP error. */
  failNext(method: string, fault: InjectedFault, count?: number): void;
  /** The next `count` Tasks a method starts end in `error` with this fault. */
  failNextTask(method: string, fault: InjectedTaskFault, count?: number): void;
  /** Ends every session, as a vCenter restart or the idle timeout would: the next call gets NotAuthenticated. */
  expireSessions(): void;
  /** How many requests of a vim25 method the fake has received. */
  calls(method: string): number;
  /** Every CloneVM_Task the fake ran, in order. */
  readonly clones: readonly CloneRecord[];
  /** SOAPAction values clients sent. */
  readonly apiVersions: ReadonlySet<string>;
  /** A VM or template by name (the driver's vmId), if it exists. */
  vm(name: string): FakeVm | undefined;
  /** Where a VM's guest reads its guestinfo (the stand-in for VMware Tools). */
  guestinfoUrl(vmRef: string): string;
  /** Why a VM's agent could not boot, if it could not. */
  agentBootError(vmRef: string): unknown;
}

/** Starts a wire-level fake of vCenter on 127.0.0.1, over HTTPS with its own CA. */
export async function startFake(options: FakeVsphereOptions = {}): Promise<VsphereFake> {
  const password = randomBytes(12).toString('base64url');
  const inventory = new FakeInventory({ name: 'slipway@vsphere.local', password });
  seedInventory(inventory);
  const tls = await createFakeTls();
  const timings: FakeTimings = {
    taskMs: options.taskDelayMs ?? 5,
    cloneMs: options.cloneDelayMs ?? 20,
    sessionIdleMs: options.sessionIdleMs ?? 30 * 60_000,
  };
  const plan = new FaultPlan();
  const scheduler = new FakeScheduler();
  let baseUrl = '';
  const guestinfoUrl = (vmRef: string) => `${baseUrl}/guestinfo/${encodeURIComponent(vmRef)}`;
  // The simulated guests read guestinfo over the fake's HTTPS: one TLS context (trusting its CA) for all of them.
  const agentTls = await fetchTls({ caPem: tls.caPem });
  const agents = new VmAgents(guestinfoUrl, agentTls, options.bootAgents ?? true);
  const clones: CloneRecord[] = [];
  const apiVersions = new Set<string>();
  const ctx: FakeContext = {
    inventory,
    tasks: new TaskRunner(inventory, scheduler, plan),
    scheduler,
    faults: plan,
    agents,
    timings,
    calls: new Map(),
    clones,
    apiVersions,
  };
  const server = await FakeVcenterServer.start(ctx, tls, options.port ?? 0);
  baseUrl = server.url;

  const vmNamed = (name: string) => inventory.vms().find((v) => v.name === name);
  const methodOf = (verb: IaasVerb) => METHOD_OF_VERB[verb];
  const faults: VsphereFake['faults'] = {
    throttleNext: (verb, count = 1) => plan.enqueue(methodOf(verb).method, throttled, count),
    serverErrorNext: (verb, count = 1) => plan.enqueue(methodOf(verb).method, proxyUnavailable, count),
    permanentErrorNext: (verb, count = 1) => {
      const { method, permanent } = methodOf(verb);
      plan.enqueue(method, () => new VimFaultError(permanent.type, permanent.message, permanent.detail ?? ''), count);
      return permanent.message;
    },
    setFaultRates: (rates) => plan.setRates(rates),
    setLatency: (ms) => {
      plan.latencyMs = ms;
    },
    async killVm(vmId) {
      // The host died and HA did not restart the VM: it leaves the inventory; its files stay on the datastore.
      const vm = vmNamed(vmId);
      if (!vm || vm.template) return;
      inventory.objects.delete(vm.ref.value);
      const folder = inventory.objects.get(vm.parent.value);
      if (folder?.kind === 'Folder') folder.children = folder.children.filter((c) => c.value !== vm.ref.value);
      await agents.stop(vm.ref.value);
    },
    hangAgent: async (vmId) => {
      const vm = vmNamed(vmId);
      if (vm) await agents.hang(vm.ref.value);
    },
    setQuota: (quota) => {
      if (quota.vms !== undefined) inventory.quota.vms = quota.vms;
      if (quota.disks !== undefined) inventory.quota.disks = quota.disks;
    },
    reset: () => {
      plan.reset();
      delete inventory.quota.vms;
      delete inventory.quota.disks;
    },
  };

  return {
    url: server.url,
    caPem: tls.caPem,
    inventory,
    inspect: {
      async diskSizeMb(diskId: string) {
        const file = [...inventory.files.values()].find((f) => f.standalone && f.path.endsWith(`/${diskId}.vmdk`));
        return file ? Math.floor(file.capacityKb / 1024) : undefined;
      },
    },
    config: {
      url: `${server.url}/sdk`,
      credentials_ref: FAKE_CREDENTIALS_REF,
      datacenter: FAKE_INVENTORY.datacenter,
      cluster: FAKE_INVENTORY.cluster,
      resource_pool: FAKE_INVENTORY.resourcePool,
      datastore: FAKE_INVENTORY.datastore,
      vm_folder: FAKE_INVENTORY.vmFolder,
      template_folder: FAKE_INVENTORY.templateFolder,
      base_template: FAKE_INVENTORY.baseTemplate,
      ca_cert: tls.caPem,
      poll_interval_ms: 10,
    },
    credentials: [{ name: FAKE_CREDENTIALS_REF, type: 'user', value: { username: inventory.user.name, password } }],
    faults,
    failNext: (method, fault, count = 1) => plan.enqueue(method, () => toError(fault), count),
    failNextTask: (method, fault, count = 1) => plan.enqueueTask(method, fault, count),
    expireSessions: () => inventory.sessions.clear(),
    calls: (method) => ctx.calls.get(method) ?? 0,
    clones,
    apiVersions,
    vm: vmNamed,
    guestinfoUrl,
    agentBootError: (vmRef) => agents.bootErrors.get(vmRef),
    async stop() {
      scheduler.stop();
      await agents.stopAll();
      await server.stop();
      await agentTls.close();
    },
  };
}
