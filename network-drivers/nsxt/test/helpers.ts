import { createTestHost, type TestHost } from '@slipway/testkit/simulation';
import type { NetworkDriver } from '@slipway/contracts';
import { Agent } from 'undici';
import plugin from '../src/index.js';
import type { NsxtConfig } from '../src/config.js';
import { startFake, type FakeNsxtOptions, type NsxtFake } from '../fake/index.js';

export interface Harness {
  fake: NsxtFake;
  host: TestHost;
  driver: NetworkDriver;
  stop(): Promise<void>;
}

/** The fake NSX Manager, a test host seeded with its credentials, and the driver made through the plugin module. */
export async function startHarness(
  options: FakeNsxtOptions & { config?: Partial<NsxtConfig>; credentials?: NsxtFake['credentials'] } = {},
): Promise<Harness> {
  const fake = await startFake(options);
  const host = await createTestHost({ credentials: options.credentials ?? fake.credentials });
  const driver = await plugin.create({ ...fake.config, ...options.config }, host);
  return {
    fake,
    host,
    driver,
    async stop() {
      await driver.destroy();
      await fake.stop();
      await host.cleanup();
    },
  };
}

/** A raw Policy API call to the fake, as an operator's curl would make it. */
export async function policyCall(
  fake: NsxtFake,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const user = fake.credentials.find((c) => c.type === 'user')!.value as { username: string; password: string };
  const dispatcher = new Agent({ connect: { ca: fake.caPem } });
  try {
    const response = await fetch(`${fake.url}/policy/api/v1${path}`, {
      method,
      dispatcher,
      headers: {
        authorization: `Basic ${Buffer.from(`${user.username}:${user.password}`).toString('base64')}`,
        'content-type': 'application/json',
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    } as RequestInit);
    const text = await response.text();
    return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  } finally {
    await dispatcher.close();
  }
}
