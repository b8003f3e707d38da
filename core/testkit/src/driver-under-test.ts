import type { IaasDriver, PluginModule } from '@slipway/contracts';
import type { StartedFake } from '@slipway/simulation';
import { createTestHost, type TestHost } from './test-host.js';

export interface DriverUnderTest<F extends StartedFake> {
  fake: F;
  host: TestHost;
  driver: IaasDriver;
  stop(): Promise<void>;
}

/**
 * A driver's own tests, beside the conformance suite: its fake started, a test host seeded with the
 * credentials the fake's config references (fields in `credentials` override theirs, e.g. a wrong secret),
 * and the driver created through the plugin module with `config` over the fake's config.
 */
export async function startDriverUnderTest<F extends StartedFake, C>(
  plugin: PluginModule<'iaas', C>,
  startFake: () => Promise<F>,
  options: { config?: Partial<C>; credentials?: Record<string, unknown> } = {},
): Promise<DriverUnderTest<F>> {
  const fake = await startFake();
  const seeded = (fake.credentials ?? []).map((c) =>
    options.credentials ? { ...c, value: { ...(c.value as object), ...options.credentials } } : c,
  );
  const host = await createTestHost({ credentials: seeded });
  const driver = await plugin.create({ ...(fake.config as C), ...options.config }, host);
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
