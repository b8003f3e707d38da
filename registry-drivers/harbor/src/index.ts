import { SlipwayError, definePlugin, type PluginHost } from '@slipway/contracts';
import { HarborClient } from './client.js';
import { configSchema, DEFAULT_PROJECT_PREFIX, type HarborConfig } from './config.js';
import { HarborRegistryDriver } from './driver.js';
import { PLUGIN } from './errors.js';

export { configSchema, type HarborConfig } from './config.js';
export { HarborRegistryDriver } from './driver.js';
export { faultToError, parseFault, type HarborFault } from './errors.js';

export default definePlugin<'registry', HarborConfig>({
  kind: 'registry',
  contract: '^2.0.0',
  configSchema,
  capabilities: ['quota', 'vulnerability', 'cosign', 'members', 'robot.push', 'leftovers'],
  /** Reads the API credential; Harbor is first contacted on the first call, so a registry that is down does not stop the control plane. */
  async create(config: HarborConfig, host: PluginHost) {
    const frozen = Object.freeze({ ...config });
    const credential = await readCredential(frozen, host);
    const client = new HarborClient(frozen.url, credential, {
      caPem: frozen.ca_pem,
      timeoutMs: frozen.timeout_ms ?? 30_000,
    });
    return new HarborRegistryDriver(client, {
      endpoint: frozen.registry_host ?? new URL(frozen.url).host,
      projectPrefix: frozen.project_prefix ?? DEFAULT_PROJECT_PREFIX,
    });
  },
});

async function readCredential(config: HarborConfig, host: PluginHost): Promise<{ username: string; password: string }> {
  if (!host.credentials) {
    throw new SlipwayError('InvalidConfig', 'the Harbor driver needs a credential provider to read credentials_ref', {
      plugin: PLUGIN,
      field: 'credentials_ref',
    });
  }
  const credential = await host.credentials.get(config.credentials_ref, { actor: 'slipway:engine' });
  const value = credential.value as { username?: unknown; password?: unknown } | null;
  if (
    (credential.type !== 'user' && credential.type !== 'json') ||
    typeof value?.username !== 'string' ||
    typeof value.password !== 'string' ||
    !value.username
  ) {
    const what = 'a user credential with username and password (a Harbor admin or system robot)';
    throw new SlipwayError('InvalidConfig', `credential ${config.credentials_ref} must be ${what}`, {
      plugin: PLUGIN,
      field: 'credentials_ref',
      hint: `slipway credentials set ${config.credentials_ref} --type user --username admin --password …`,
    });
  }
  return { username: value.username, password: value.password };
}
