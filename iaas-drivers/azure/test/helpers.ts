import { randomUUID } from 'node:crypto';
import { request } from 'node:https';
import { SlipwayError, type AgentSettings, type CreateVmInput, type IaasDriver } from '@slipway/contracts';
import { createTestHost, type TestHost } from '@slipway/testkit/simulation';
import plugin from '../src/index.js';
import type { AzureConfig } from '../src/config.js';
import { FAKE_STEMCELL_BLOB, startFake, type AzureFake, type FakeAzureOptions } from '../fake/index.js';

export interface DriverUnderTest {
  fake: AzureFake;
  host: TestHost;
  driver: IaasDriver;
  stop(): Promise<void>;
}

/** A fake Azure (agents off unless asked) and a driver created against it through the plugin module. */
export async function startDriver(options: FakeAzureOptions & { config?: Partial<AzureConfig>; credentials?: Record<string, unknown> } = {}): Promise<DriverUnderTest> {
  const { config, credentials, ...fakeOptions } = options;
  const fake = await startFake({ bootAgents: false, ...fakeOptions });
  const seeded = fake.credentials!.map((c) => (credentials ? { ...c, value: { ...(c.value as object), ...credentials } } : c));
  const host = await createTestHost({ credentials: seeded });
  const driver = await plugin.create({ ...fake.config, ...config }, host);
  return {
    fake, host, driver,
    async stop() {
      await driver.destroy();
      await fake.stop();
      await host.cleanup();
    },
  };
}

/** A managed-image stemcell made of the fake's VHD blob. */
export async function stemcell(driver: IaasDriver): Promise<string> {
  return (await driver.createStemcell({ name: 'ubuntu-noble', version: '1.0', cloudProperties: { source_uri: FAKE_STEMCELL_BLOB } }, { requestId: 'helpers-stemcell' })).stemcellId;
}

let ipCounter = 10;

/** Settings of the shape the control plane sends; these agents are never booted, so the PEMs are placeholders. */
export function placeholderSettings(agentId = `agent-${randomUUID()}`): AgentSettings {
  ipCounter += 1;
  return {
    agentId, clusterId: 'c-1', instanceId: `worker-${ipCounter}`, group: 'worker', index: 0,
    controlPlane: { url: 'https://127.0.0.1:9', caPem: 'CA PEM' },
    tls: { certPem: 'CERT PEM', keyPem: 'KEY PEM' },
    network: { ip: `10.1.${Math.floor(ipCounter / 250)}.${(ipCounter % 250) + 4}` },
    heartbeatIntervalMs: 1000,
  };
}

export function vmInput(stemcellId: string, overrides: Partial<CreateVmInput> = {}, env = placeholderSettings()): CreateVmInput {
  return {
    agentId: env.agentId,
    stemcellId,
    resources: { cpu: 1, memoryMb: 512, ephemeralDiskMb: 1024 },
    network: env.network,
    env,
    metadata: { 'slipway.cluster': 'c-1' },
    ...overrides,
  };
}

export async function failure(call: Promise<unknown>): Promise<SlipwayError> {
  try {
    await call;
  } catch (error) {
    if (SlipwayError.is(error)) return error;
    throw error;
  }
  throw new Error('the call succeeded but was expected to fail');
}

/** A token from the fake's Entra endpoint, for raw ARM calls and the SDK. */
export async function fetchToken(fake: AzureFake): Promise<{ token: string; expiresOnTimestamp: number }> {
  const credential = fake.credentials![0]!.value as { tenant_id: string; client_id: string; client_secret: string };
  const form = new URLSearchParams({
    client_id: credential.client_id, client_secret: credential.client_secret,
    scope: 'https://management.azure.com/.default', grant_type: 'client_credentials',
  }).toString();
  const response = await rawRequest(fake, 'POST', `/${credential.tenant_id}/oauth2/v2.0/token`, form, { 'content-type': 'application/x-www-form-urlencoded' });
  if (response.status !== 200) throw new Error(`token request: ${response.status} ${response.text}`);
  const body = JSON.parse(response.text) as { access_token: string; expires_in: number };
  return { token: body.access_token, expiresOnTimestamp: Date.now() + body.expires_in * 1000 };
}

/** An ARM request to the fake as any client would send it (trusting the fake's CA), with a bearer token. */
export async function armRequest(fake: AzureFake, method: string, path: string, body?: unknown): Promise<{ status: number; headers: Record<string, unknown>; json: any }> {
  const { token } = await fetchToken(fake);
  const response = await rawRequest(fake, method, path, body === undefined ? undefined : JSON.stringify(body), {
    authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
  });
  return { status: response.status, headers: response.headers, json: response.text ? JSON.parse(response.text) : undefined };
}

export function rawRequest(fake: AzureFake, method: string, path: string, body: string | undefined, headers: Record<string, string>): Promise<{ status: number; headers: Record<string, unknown>; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, fake.url), { method, headers, ca: fake.caPem }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => { text += chunk; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** `/subscriptions/{sub}/resourceGroups/{rg}/providers/{rest}` of the fake. */
export function groupPath(fake: AzureFake, rest: string): string {
  return `/subscriptions/${fake.state.subscriptionId}/resourceGroups/${fake.state.resourceGroup}/providers/${rest}`;
}
