import { createPrivateKey } from 'node:crypto';
import { SlipwayError, definePlugin, type PluginHost } from '@slipway/contracts';
import { ServiceAccountTokens } from './auth.js';
import { ComputeClient } from './client.js';
import { DEFAULT_ENDPOINT, configSchema, type GcpConfig, type ServiceAccountKey } from './config.js';
import { GcpIaasDriver } from './driver.js';
import { PLUGIN } from './errors.js';
import { MachineTypeCatalog } from './machine-types.js';
import { OperationRunner, RequestIdLedger } from './operations.js';

export { configSchema, DEFAULT_ENDPOINT, type GcpConfig, type ServiceAccountKey } from './config.js';
export { GcpIaasDriver } from './driver.js';
export { faultToError, operationFaultToError, readFault, type GoogleFault, type OperationFault } from './errors.js';
export { decodeLabel, encodeLabelKey, encodeLabelValue, labelFilter } from './labels.js';
export { COMPUTE_SCOPE, ServiceAccountTokens } from './auth.js';
export { GceMetadataServer, GCE_METADATA_URL, SETTINGS_ATTRIBUTE } from './metadata.js';

const KEY_FIELDS = ['project_id', 'private_key_id', 'private_key', 'client_email', 'token_uri'] as const;

export default definePlugin<'iaas', GcpConfig>({
  kind: 'iaas',
  contract: '^1.0.0',
  configSchema,
  capabilities: ['vm.reboot', 'disk.resize', 'disk.snapshot', 'inventory'],
  /** Reads and checks the service-account key; the token exchange waits for the first call, so a Google outage does not stop the control plane starting. */
  async create(config: GcpConfig, host: PluginHost) {
    const frozen = Object.freeze({ ...config });
    const key = await readKey(frozen, host);
    const project = frozen.project ?? key.project_id;
    const tokens = new ServiceAccountTokens(key, host.clock);
    const client = new ComputeClient(tokens, project, frozen.endpoint ?? DEFAULT_ENDPOINT);
    return new GcpIaasDriver({
      client,
      operations: new OperationRunner(client, new RequestIdLedger()),
      machineTypes: new MachineTypeCatalog(client, frozen.machine_type_series ?? 'e2', frozen.default_machine_type),
      config: frozen,
      project,
      clock: host.clock,
      logger: host.logger.child({ plugin: PLUGIN, iaas: host.instanceName }),
    });
  },
});

async function readKey(config: GcpConfig, host: PluginHost): Promise<ServiceAccountKey> {
  if (!host.credentials) {
    throw new SlipwayError('InvalidConfig', 'the GCP driver needs a credential provider to read credentials_ref', {
      plugin: PLUGIN,
      field: 'credentials_ref',
    });
  }
  const credential = await host.credentials.get(config.credentials_ref, { actor: 'slipway:engine' });
  const value = (typeof credential.value === 'string' ? parseJson(credential.value) : credential.value) as Partial<
    Record<string, unknown>
  > | null;
  const missing = KEY_FIELDS.filter((field) => typeof value?.[field] !== 'string' || value[field] === '');
  const hint = `gcloud iam service-accounts keys create key.json --iam-account=SA_EMAIL, then: slipway credentials set ${config.credentials_ref} --type json --value "$(cat key.json)"`;
  if (credential.type !== 'json' || value?.type !== 'service_account' || missing.length > 0) {
    throw new SlipwayError(
      'InvalidConfig',
      `credential ${config.credentials_ref} must be a json credential holding a service-account key (type "service_account"${missing.length ? `; missing ${missing.join(', ')}` : ''})`,
      {
        plugin: PLUGIN,
        field: 'credentials_ref',
        hint,
      },
    );
  }
  try {
    createPrivateKey(value.private_key as string);
  } catch (error) {
    throw new SlipwayError(
      'InvalidConfig',
      `the private_key of credential ${config.credentials_ref} is not a PEM private key: ${(error as Error).message}`,
      { plugin: PLUGIN, field: 'credentials_ref', hint, cause: error },
    );
  }
  return value as unknown as ServiceAccountKey;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
