import { request } from 'node:https';
import type { AgentSettings, CreateVmInput, IaasDriver } from '@slipway/contracts';
import {
  placeholderVmInput,
  startDriverUnderTest,
  type DriverUnderTest as GenericDriverUnderTest,
} from '@slipway/testkit/simulation';
import plugin from '../src/index.js';
import type { AzureConfig } from '../src/config.js';
import { FAKE_STEMCELL_BLOB, startFake, type AzureFake, type FakeAzureOptions } from '../fake/index.js';

export { failure, placeholderSettings } from '@slipway/testkit/simulation';

export type DriverUnderTest = GenericDriverUnderTest<AzureFake>;

/** A fake Azure (agents off unless asked) and a driver created against it through the plugin module. */
export function startDriver(
  options: FakeAzureOptions & { config?: Partial<AzureConfig>; credentials?: Record<string, unknown> } = {},
): Promise<DriverUnderTest> {
  const { config, credentials, ...fakeOptions } = options;
  return startDriverUnderTest(plugin, () => startFake({ bootAgents: false, ...fakeOptions }), { config, credentials });
}

/** A managed-image stemcell made of the fake's VHD blob. */
export async function stemcell(driver: IaasDriver): Promise<string> {
  return (
    await driver.createStemcell(
      { name: 'ubuntu-noble', version: '1.0', cloudProperties: { source_uri: FAKE_STEMCELL_BLOB } },
      { requestId: 'helpers-stemcell' },
    )
  ).stemcellId;
}

export const vmInput = (
  stemcellId: string,
  overrides: Partial<CreateVmInput> = {},
  env?: AgentSettings,
): CreateVmInput => placeholderVmInput(stemcellId, overrides, env);

/** A token from the fake's Entra endpoint, for raw ARM calls and the SDK. */
export async function fetchToken(fake: AzureFake): Promise<{ token: string; expiresOnTimestamp: number }> {
  const credential = fake.credentials![0]!.value as { tenant_id: string; client_id: string; client_secret: string };
  const form = new URLSearchParams({
    client_id: credential.client_id,
    client_secret: credential.client_secret,
    scope: 'https://management.azure.com/.default',
    grant_type: 'client_credentials',
  }).toString();
  const response = await rawRequest(fake, 'POST', `/${credential.tenant_id}/oauth2/v2.0/token`, form, {
    'content-type': 'application/x-www-form-urlencoded',
  });
  if (response.status !== 200) throw new Error(`token request: ${response.status} ${response.text}`);
  const body = JSON.parse(response.text) as { access_token: string; expires_in: number };
  return { token: body.access_token, expiresOnTimestamp: Date.now() + body.expires_in * 1000 };
}

/** An ARM request to the fake as any client would send it (trusting the fake's CA), with a bearer token. */
export async function armRequest(
  fake: AzureFake,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; headers: Record<string, unknown>; json: any }> {
  const { token } = await fetchToken(fake);
  const response = await rawRequest(fake, method, path, body === undefined ? undefined : JSON.stringify(body), {
    authorization: `Bearer ${token}`,
    ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
  });
  return {
    status: response.status,
    headers: response.headers,
    json: response.text ? JSON.parse(response.text) : undefined,
  };
}

export function rawRequest(
  fake: AzureFake,
  method: string,
  path: string,
  body: string | undefined,
  headers: Record<string, string>,
): Promise<{ status: number; headers: Record<string, unknown>; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, fake.url), { method, headers, ca: fake.caPem }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
      });
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
