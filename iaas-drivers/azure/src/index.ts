import { SlipwayError, definePlugin, type PluginHost } from '@slipway/contracts';
import { ArmClient } from './arm.js';
import { ArmResources } from './arm-resources.js';
import {
  DEFAULT_AUTHORITY_URL,
  DEFAULT_RESOURCE_MANAGER_URL,
  DEFAULT_TOKEN_SCOPE,
  configSchema,
  type AzureClientCredential,
  type AzureConfig,
} from './config.js';
import { AzureIaasDriver } from './driver.js';
import { EntraTokenSession } from './entra.js';
import { PLUGIN } from './errors.js';
import { HttpsTransport } from './transport.js';

export {
  configSchema,
  type AzureConfig,
  type AzureClientCredential,
  type MarketplaceImage,
  type StorageAccountType,
} from './config.js';
export { AzureIaasDriver } from './driver.js';
export { faultToError, readArmFault, type ArmFault } from './errors.js';
export { API_VERSIONS } from './api-versions.js';
export { DATA_DISK_HOST_DEVICE_ID } from './disks.js';

const CREDENTIAL_FIELDS = ['tenant_id', 'client_id', 'client_secret'] as const;

export default definePlugin<'iaas', AzureConfig>({
  kind: 'iaas',
  contract: '^1.0.0',
  configSchema,
  capabilities: ['vm.reboot', 'disk.resize', 'disk.snapshot', 'inventory'],
  /** Reads the credential; the first token is fetched by the first call, so a cloud that is down does not stop the control plane starting. */
  async create(config: AzureConfig, host: PluginHost) {
    const frozen = Object.freeze({ ...config });
    const credential = await readCredential(frozen, host);
    const clock = host.clock;
    const transport = new HttpsTransport(frozen.ca_cert);
    const session = new EntraTokenSession(
      frozen.authority_url ?? DEFAULT_AUTHORITY_URL,
      credential,
      frozen.token_scope ?? DEFAULT_TOKEN_SCOPE,
      transport,
      clock,
    );
    const arm = new ArmClient(frozen.resource_manager_url ?? DEFAULT_RESOURCE_MANAGER_URL, session, transport);
    const api = new ArmResources(
      arm,
      { arm, clock, pollIntervalMs: frozen.poll_interval_ms ?? 2000 },
      frozen.subscription_id,
      frozen.resource_group,
    );
    return new AzureIaasDriver(
      { api, config: frozen, clock, logger: host.logger.child({ plugin: PLUGIN, iaas: host.instanceName }) },
      transport,
    );
  },
});

async function readCredential(config: AzureConfig, host: PluginHost): Promise<AzureClientCredential> {
  if (!host.credentials) {
    throw new SlipwayError('InvalidConfig', 'the Azure driver needs a credential provider to read credentials_ref', {
      plugin: PLUGIN,
      field: 'credentials_ref',
    });
  }
  const credential = await host.credentials.get(config.credentials_ref, { actor: 'slipway:engine' });
  const value = credential.value as Partial<Record<(typeof CREDENTIAL_FIELDS)[number], unknown>> | null;
  const missing = CREDENTIAL_FIELDS.filter((field) => typeof value?.[field] !== 'string' || value[field] === '');
  if (credential.type !== 'json' || missing.length > 0) {
    throw new SlipwayError(
      'InvalidConfig',
      `credential ${config.credentials_ref} must be a json credential with ${missing.length ? missing.join(', ') : CREDENTIAL_FIELDS.join(', ')}`,
      {
        plugin: PLUGIN,
        field: 'credentials_ref',
        hint: `slipway credentials set ${config.credentials_ref} --type json --value '{"tenant_id":…,"client_id":…,"client_secret":…}'`,
      },
    );
  }
  return value as AzureClientCredential;
}
