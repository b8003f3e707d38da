import { SlipwayError, definePlugin, type PluginHost } from '@slipway/contracts';
import { BlockStorageApi } from './block-storage.js';
import { OpenStackClient } from './client.js';
import { ComputeApi } from './compute.js';
import { configSchema, type OpenStackConfig, type OpenStackPasswordCredential } from './config.js';
import { OpenStackIaasDriver } from './driver.js';
import { PLUGIN } from './errors.js';
import { ImageApi } from './image.js';
import { KeystoneSession } from './keystone.js';

export { configSchema, type OpenStackConfig, type OpenStackPasswordCredential } from './config.js';
export { OpenStackIaasDriver } from './driver.js';
export { faultToError, readFault, type OpenStackFault } from './errors.js';
export { COMPUTE_MICROVERSION, VOLUME_MICROVERSION } from './client.js';

const CREDENTIAL_FIELDS = ['username', 'password', 'user_domain_name', 'project_name', 'project_domain_name'] as const;

export default definePlugin<'iaas', OpenStackConfig>({
  kind: 'iaas',
  contract: '^1.0.0',
  configSchema,
  capabilities: ['vm.reboot', 'disk.resize', 'disk.snapshot', 'inventory'],
  /** Reads the Keystone credential; authentication waits for the first call, so a cloud that is down does not stop the control plane starting. */
  async create(config: OpenStackConfig, host: PluginHost) {
    const frozen = Object.freeze({ ...config });
    const credential = await readCredential(frozen, host);
    const session = new KeystoneSession(frozen.auth_url, credential, host.clock, {
      region: frozen.region,
      interface: frozen.interface ?? 'public',
    });
    const client = new OpenStackClient(session, frozen.endpoint_overrides ?? {});
    return new OpenStackIaasDriver({
      compute: new ComputeApi(client),
      volumes: new BlockStorageApi(client),
      images: new ImageApi(client),
      config: frozen,
      clock: host.clock,
      pollIntervalMs: frozen.poll_interval_ms ?? 1000,
      logger: host.logger.child({ plugin: PLUGIN, iaas: host.instanceName }),
    });
  },
});

async function readCredential(config: OpenStackConfig, host: PluginHost): Promise<OpenStackPasswordCredential> {
  if (!host.credentials) {
    throw new SlipwayError(
      'InvalidConfig',
      'the OpenStack driver needs a credential provider to read credentials_ref',
      { plugin: PLUGIN, field: 'credentials_ref' },
    );
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
        hint: `slipway credentials set ${config.credentials_ref} --type json --value '{"username":…,"password":…,"user_domain_name":"Default","project_name":…,"project_domain_name":"Default"}'`,
      },
    );
  }
  return value as OpenStackPasswordCredential;
}
