import { EC2Client } from '@aws-sdk/client-ec2';
import { SlipwayError, definePlugin, type PluginHost } from '@slipway/contracts';
import { configSchema, resolveConfig, type AwsConfig, type AwsCredential } from './config.js';
import { RecentResources } from './consistency.js';
import { AwsIaasDriver } from './driver.js';
import { Ec2Api } from './ec2.js';
import { PLUGIN } from './errors.js';

export {
  configSchema,
  resolveConfig,
  type AwsConfig,
  type AwsCredential,
  type ResolvedAwsConfig,
  type VolumeType,
} from './config.js';
export { AwsIaasDriver } from './driver.js';
export { faultToError, launchFailure, readFault, type Ec2Fault } from './errors.js';
export { clientToken } from './naming.js';

/** How long the SDK may use a credential it read before reading it again (picks up a rotated key). */
const CREDENTIAL_REFRESH_MS = 60_000;
/** The SDK refreshes a credential this long before its stated expiry. */
const SDK_REFRESH_MARGIN_MS = 5 * 60_000;

export default definePlugin<'iaas', AwsConfig>({
  kind: 'iaas',
  contract: '^1.0.0',
  configSchema,
  capabilities: ['vm.reboot', 'disk.resize', 'disk.snapshot', 'inventory'],
  /** Reads the credential once to refuse a broken one at start; no EC2 call is made until the first verb. */
  async create(config: AwsConfig, host: PluginHost) {
    const resolved = resolveConfig(config);
    let first: AwsCredential | undefined = await readCredential(resolved, host);
    const client = new EC2Client({
      region: resolved.region,
      ...(resolved.endpoint ? { endpoint: resolved.endpoint } : {}),
      // The engine owns retries, backoff and timeouts: one attempt per call.
      maxAttempts: 1,
      credentials: async () => {
        const credential = first ?? (await readCredential(resolved, host));
        first = undefined;
        return {
          accessKeyId: credential.access_key_id,
          secretAccessKey: credential.secret_access_key,
          ...(credential.session_token ? { sessionToken: credential.session_token } : {}),
          // Not the key's real expiry: a date that makes the SDK read the credential provider again a minute later.
          expiration: new Date(Date.now() + SDK_REFRESH_MARGIN_MS + CREDENTIAL_REFRESH_MS),
        };
      },
    });
    const recent = new RecentResources(host.clock, resolved.consistency_window_seconds * 1000);
    return new AwsIaasDriver(
      {
        ec2: new Ec2Api(client, recent),
        config: resolved,
        clock: host.clock,
        logger: host.logger.child({ plugin: PLUGIN, iaas: host.instanceName }),
        recent,
      },
      client,
    );
  },
});

async function readCredential(config: AwsConfig, host: PluginHost): Promise<AwsCredential> {
  if (!host.credentials) {
    throw new SlipwayError('InvalidConfig', 'the AWS driver needs a credential provider to read credentials_ref', {
      plugin: PLUGIN,
      field: 'credentials_ref',
    });
  }
  const credential = await host.credentials.get(config.credentials_ref, { actor: 'slipway:engine' });
  const value = credential.value as Partial<Record<keyof AwsCredential, unknown>> | null;
  const missing = (['access_key_id', 'secret_access_key'] as const).filter(
    (field) => typeof value?.[field] !== 'string' || value[field] === '',
  );
  const badToken = value?.session_token !== undefined && typeof value.session_token !== 'string';
  if (credential.type !== 'json' || missing.length > 0 || badToken) {
    throw new SlipwayError(
      'InvalidConfig',
      `credential ${config.credentials_ref} must be a json credential with access_key_id, secret_access_key and optionally session_token${missing.length ? ` (missing: ${missing.join(', ')})` : ''}`,
      {
        plugin: PLUGIN,
        field: 'credentials_ref',
        hint: `slipway credentials set ${config.credentials_ref} --type json --value '{"access_key_id":"AKIA…","secret_access_key":"…"}'`,
      },
    );
  }
  return value as AwsCredential;
}
