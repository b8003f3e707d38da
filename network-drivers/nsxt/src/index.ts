import { SlipwayError, definePlugin, type PluginHost } from '@slipway/contracts';
import { PolicyClient, type NsxtCredentials } from './client.js';
import { configSchema, type NsxtConfig } from './config.js';
import { NsxtNetworkDriver } from './driver.js';
import { PLUGIN } from './errors.js';
import { Realization } from './realization.js';

export { configSchema, type NsxtConfig, type NsxtAuthMode } from './config.js';
export { NsxtNetworkDriver } from './driver.js';
export { faultToError, readFault, type NsxFault } from './errors.js';
export { buildInfraPatch } from './hierarchy.js';
export { CLUSTER_SCOPE, clusterObjects } from './naming.js';

export default definePlugin<'network', NsxtConfig>({
  kind: 'network',
  contract: '^2.0.0',
  configSchema,
  capabilities: ['lb', 'ingress', 'snat', 'isolation', 'pod-routing', 'leftovers'],
  /** Reads the credential; the first Policy call waits for the first verb, so an NSX Manager that is down does not stop the control plane starting. */
  async create(config: NsxtConfig, host: PluginHost) {
    const frozen = Object.freeze({ ...config });
    const credentials = await readCredentials(frozen, host);
    const client = new PolicyClient(
      frozen.manager_url,
      credentials,
      frozen.ca_certificate,
      frozen.request_timeout_ms ?? 30_000,
    );
    const realization = new Realization(
      client,
      frozen.poll_interval_ms ?? 1000,
      frozen.realization_timeout_ms ?? 120_000,
    );
    return new NsxtNetworkDriver(client, realization, frozen);
  },
});

async function readCredentials(config: NsxtConfig, host: PluginHost): Promise<NsxtCredentials> {
  const field = 'credentials_ref';
  if (!host.credentials)
    throw new SlipwayError('InvalidConfig', 'the NSX-T driver needs a credential provider to read credentials_ref', {
      plugin: PLUGIN,
      field,
    });
  const mode = config.auth ?? 'basic';
  const credential = await host.credentials.get(config.credentials_ref, { actor: 'slipway:engine' });
  switch (mode) {
    case 'basic':
    case 'session': {
      const value = credential.value as { username?: unknown; password?: unknown } | null;
      if (
        (credential.type !== 'user' && credential.type !== 'json') ||
        typeof value?.username !== 'string' ||
        typeof value.password !== 'string'
      ) {
        throw new SlipwayError(
          'InvalidConfig',
          `credential ${config.credentials_ref} must be a user credential (username, password) for auth: ${mode}`,
          {
            plugin: PLUGIN,
            field,
            hint: `slipway credentials set ${config.credentials_ref} --type user --username admin --password ...`,
          },
        );
      }
      return { mode, username: value.username, password: value.password };
    }
    case 'certificate': {
      const value = credential.value as { certificate?: unknown; private_key?: unknown } | null;
      if (
        credential.type !== 'certificate' ||
        typeof value?.certificate !== 'string' ||
        typeof value.private_key !== 'string'
      ) {
        const what =
          "a certificate credential (a principal identity's certificate and private_key) for auth: certificate";
        throw new SlipwayError('InvalidConfig', `credential ${config.credentials_ref} must be ${what}`, {
          plugin: PLUGIN,
          field,
          hint: 'Register the certificate as a principal identity in NSX (System > User Management), then store it with slipway credentials set --type certificate.',
        });
      }
      return { mode, certificate: value.certificate, privateKey: value.private_key };
    }
  }
}
