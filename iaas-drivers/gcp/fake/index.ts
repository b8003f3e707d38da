import { createPublicKey, generateKeyPair, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import type { FakeFaults, IaasVerb, StartedFake } from '@slipway/simulation';
import type { GcpConfig, ServiceAccountKey } from '../src/config.js';
import { VmAgents } from './agents.js';
import { catalogRoutes } from './catalog.js';
import { diskRoutes } from './disks.js';
import { FakeApiError } from './http.js';
import { FaultPlan, METHOD_OF_VERB, serverError, throttleError, type InjectedError } from './faults.js';
import { imageRoutes } from './images.js';
import { instanceRoutes } from './instances.js';
import { operationRoutes } from './operation-routes.js';
import { FakeOperations, type OperationFailure } from './operations.js';
import type { FakeContext, FakeTimings } from './routes.js';
import { FakeGceServer } from './server.js';
import { FakeGceState, fingerprint, newId, timestamp } from './state.js';
import { FakeScheduler } from '@slipway/simulation';

export type { InjectedError } from './faults.js';
export type { OperationFailure } from './operations.js';
export type { FakeGceState } from './state.js';
export { METHOD_OF_VERB } from './faults.js';

export const FAKE_PROJECT = 'slipway-fake';
/** The fake's public image project, like `ubuntu-os-cloud`: readable by anyone, holding the base image. */
export const FAKE_IMAGE_PROJECT = 'slipway-fake-images';
/** The base image every fake starts with; the config copies it for heavy stemcells, or pass it as a light one (`cloud_properties.image`). */
export const FAKE_BASE_IMAGE = `projects/${FAKE_IMAGE_PROJECT}/global/images/ubuntu-2204-jammy-v20240110`;
export const FAKE_BASE_IMAGE_FAMILY = `projects/${FAKE_IMAGE_PROJECT}/global/images/family/ubuntu-2204-lts`;
/** A stemcell tarball the fake's Cloud Storage holds, for `imagePath`. */
export const FAKE_STEMCELL_OBJECT = 'gs://slipway-fake-stemcells/bosh-google-kvm-ubuntu-jammy-go_agent-raw-1.0.tar.gz';
export const FAKE_CREDENTIALS_REF = '/slipway/iaas/gcp';

export interface FakeGcpOptions {
  /** Port on 127.0.0.1; default 0 (the OS chooses). */
  port?: number;
  /** Zones of the fake's region. Default us-central1-a, -b, -c. */
  zones?: string[];
  /** An operation's PENDING -> RUNNING, ms. Default 5. */
  pendingMs?: number;
  /** instances.insert until RUNNING (and its operation DONE), ms. Default 30. */
  buildDelayMs?: number;
  /** Every other operation, ms. Default 10. */
  transitionDelayMs?: number;
  /** images.insert until READY, ms. Default 20. */
  imageDelayMs?: number;
  /** How long zoneOperations.wait holds a request, ms. Default 120000 as on GCE. */
  waitTimeoutMs?: number;
  /** Access token lifetime, s (`expires_in`). Default 3599. */
  tokenTtlSeconds?: number;
  /** How long a requestId answers its first operation, ms. Default one hour, GCE's guarantee. */
  requestIdRetentionMs?: number;
  /** Boot a simulated node agent on every instance that becomes RUNNING. Default true. */
  bootAgents?: boolean;
}

/** A running fake of Compute Engine v1 (and Google's token endpoint and the metadata server) on one 127.0.0.1 port. */
export interface GcpFake extends StartedFake<GcpConfig> {
  /** `http://127.0.0.1:PORT`: /token, /compute/v1/projects/..., /metadata/{instanceId}/computeMetadata/v1/... */
  readonly url: string;
  readonly project: string;
  /** The service-account key the fake's credential holds (its token_uri is the fake's /token). */
  readonly serviceAccountKey: ServiceAccountKey & Record<string, string>;
  /** The fake's state, for tests that look behind the API (read it; change it only through the API or faults). */
  readonly state: FakeGceState;
  readonly faults: FakeFaults & { hangAgent(vmId: string): Promise<void> };
  /** The next `count` requests of a Compute method (`instances.insert`, `zoneOperations.wait`, or `token`) fail with `error`. */
  failNext(method: string, error: InjectedError, count?: number): void;
  /** The next `count` operations a Compute method starts end DONE with this `error` (ZONE_RESOURCE_POOL_EXHAUSTED...). */
  failNextOperation(method: string, failure: OperationFailure, count?: number): void;
  /** Invalidates every issued access token: the next API call gets 401 authError. */
  revokeTokens(): void;
  /** Disables the service-account key: the token endpoint refuses its assertions with invalid_grant. */
  disableKey(): void;
  /** Requests a method (`instances.insert`, `token`...) has received. */
  calls(method: string): number;
  /** Requests the fake failed on purpose (queued faults and random rates) since it started. */
  injectedFaults(): number;
  /** The metadata server base URL an instance's guest would see as http://metadata.google.internal. */
  metadataUrl(instanceId: string): string;
  /** Why an instance's agent could not boot, if it could not (by the instance's numeric id). */
  agentBootError(instanceId: string): unknown;
}

/** Starts a wire-level fake of Google Compute Engine on 127.0.0.1. */
export async function startFake(options: FakeGcpOptions = {}): Promise<GcpFake> {
  const { publicKey, privateKey } = await promisify(generateKeyPair)('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const keyId = randomBytes(20).toString('hex');
  const email = `slipway-driver@${FAKE_PROJECT}.iam.gserviceaccount.com`;
  const zones = options.zones ?? ['us-central1-a', 'us-central1-b', 'us-central1-c'];
  const state = new FakeGceState(FAKE_PROJECT, FAKE_IMAGE_PROJECT, zones, ['default'], {
    email,
    keyId,
    publicKey: createPublicKey(publicKey),
    disabled: false,
  });
  seedImages(state);
  const timings: FakeTimings = {
    pendingMs: options.pendingMs ?? 5,
    buildMs: options.buildDelayMs ?? 30,
    transitionMs: options.transitionDelayMs ?? 10,
    imageMs: options.imageDelayMs ?? 20,
    waitTimeoutMs: options.waitTimeoutMs ?? 120_000,
    tokenTtlSeconds: options.tokenTtlSeconds ?? 3599,
  };
  const scheduler = new FakeScheduler();
  const plan = new FaultPlan(state.projectNumber);
  const operations = new FakeOperations(scheduler, timings.pendingMs, options.requestIdRetentionMs ?? 3_600_000);
  let baseUrl = '';
  const metadataUrl = (instanceId: string) => `${baseUrl}/metadata/${instanceId}`;
  const agents = new VmAgents(metadataUrl, options.bootAgents ?? true);
  const ctx: FakeContext = { state, scheduler, agents, faults: plan, operations, timings, calls: new Map(), baseUrl };
  const storage = new Set([`https://storage.googleapis.com/${FAKE_STEMCELL_OBJECT.slice('gs://'.length)}`]);
  const routes = [
    ...catalogRoutes(ctx),
    ...operationRoutes(ctx),
    ...instanceRoutes(ctx),
    ...diskRoutes(ctx),
    ...imageRoutes(ctx, storage),
  ];
  const http = await FakeGceServer.start(ctx, routes, options.port ?? 0);
  baseUrl = ctx.baseUrl = http.url;

  const methodOf = (verb: IaasVerb) => METHOD_OF_VERB[verb];
  const instanceOf = (vmId: string) => state.instances.get(vmId);
  const faults: GcpFake['faults'] = {
    throttleNext: (verb, count = 1) =>
      plan.enqueue(methodOf(verb).method, () => throttleError(state.projectNumber), count),
    serverErrorNext: (verb, count = 1) => plan.enqueue(methodOf(verb).method, serverError, count),
    permanentErrorNext: (verb, count = 1) => {
      const { method, permanent } = methodOf(verb);
      plan.enqueue(method, () => new FakeApiError(400, permanent.reason, permanent.message), count);
      return permanent.message;
    },
    setFaultRates: (rates) => plan.setRates(rates),
    setLatency: (ms) => {
      plan.latencyMs = ms;
    },
    async killVm(vmId) {
      // The host died and the instance could not be restarted: STOPPING, then TERMINATED, as GCE shows it.
      const instance = instanceOf(vmId);
      if (!instance || instance.status === 'TERMINATED') return;
      instance.status = 'STOPPING';
      await agents.stop(instance.id);
      scheduler.later(timings.transitionMs, () => {
        if (instance.status === 'STOPPING' && !instance.deleting) instance.status = 'TERMINATED';
      });
    },
    hangAgent: async (vmId) => {
      const instance = instanceOf(vmId);
      if (instance) await agents.hang(instance.id);
    },
    setQuota: (quota) => {
      if (quota.vms !== undefined) state.quota.vms = quota.vms;
      if (quota.disks !== undefined) state.quota.disks = quota.disks;
    },
    reset: () => {
      plan.reset();
      delete state.quota.vms;
      delete state.quota.disks;
    },
  };

  const key = {
    type: 'service_account' as const,
    project_id: FAKE_PROJECT,
    private_key_id: keyId,
    private_key: privateKey,
    client_email: email,
    client_id: String(BigInt(newId()) % 10n ** 21n),
    auth_uri: 'https://accounts.google.com/o/oauth2/auth',
    token_uri: `${http.url}/token`,
    auth_provider_x509_cert_url: 'https://www.googleapis.com/oauth2/v1/certs',
    client_x509_cert_url: `https://www.googleapis.com/robot/v1/metadata/x509/${encodeURIComponent(email)}`,
    universe_domain: 'googleapis.com',
  };

  return {
    url: http.url,
    project: FAKE_PROJECT,
    serviceAccountKey: key,
    state,
    config: {
      project: FAKE_PROJECT,
      zone: zones[0]!,
      credentials_ref: FAKE_CREDENTIALS_REF,
      endpoint: http.url,
      stemcell_source_image: FAKE_BASE_IMAGE_FAMILY,
    },
    credentials: [{ name: FAKE_CREDENTIALS_REF, type: 'json', value: key }],
    faults,
    failNext: (method, error, count = 1) => plan.enqueueInjected(method, error, count),
    failNextOperation: (method, failure, count = 1) => plan.enqueueOperationFailure(method, failure, count),
    revokeTokens: () => state.tokens.clear(),
    disableKey: () => {
      state.serviceAccount.disabled = true;
    },
    calls: (method) => ctx.calls.get(method) ?? 0,
    injectedFaults: () => plan.injected,
    metadataUrl,
    agentBootError: (instanceId) => agents.bootErrors.get(instanceId),
    async stop() {
      scheduler.stop();
      operations.releaseAll();
      await agents.stopAll();
      await http.stop();
    },
  };
}

function seedImages(state: FakeGceState): void {
  const created = timestamp(Date.parse('2024-01-10T00:00:00Z'));
  for (const [name, family] of [
    ['ubuntu-2204-jammy-v20231213', 'ubuntu-2204-lts'],
    ['ubuntu-2204-jammy-v20240110', 'ubuntu-2204-lts'],
  ] as const) {
    state.images.set(`${FAKE_IMAGE_PROJECT}/${name}`, {
      id: newId(),
      project: FAKE_IMAGE_PROJECT,
      name,
      status: 'READY',
      diskSizeGb: 10,
      family,
      labels: {},
      labelFingerprint: fingerprint({}),
      description: 'Canonical, Ubuntu, 22.04 LTS, amd64 jammy image',
      creationTimestamp: name.endsWith('20240110') ? created : timestamp(Date.parse('2023-12-13T00:00:00Z')),
    });
  }
}
