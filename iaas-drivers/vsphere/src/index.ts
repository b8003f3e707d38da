import { SlipwayError, definePlugin, type PluginHost } from '@slipway/contracts';
import { configSchema, sdkUrl, type VsphereConfig, type VsphereCredential } from './config.js';
import type { VsphereContext } from './context.js';
import { CustomFields } from './custom-fields.js';
import { VsphereIaasDriver } from './driver.js';
import { PLUGIN } from './errors.js';
import { Inventory } from './inventory.js';
import { VimSession } from './session.js';
import { Templates } from './templates.js';
import { fetchTls } from './tls.js';
import { Vim } from './vim.js';

export { configSchema, sdkUrl, type VsphereConfig, type VsphereCredential } from './config.js';
export { VsphereIaasDriver } from './driver.js';
export { faultToError, readSoapFault, readTaskFault, type VimFault } from './errors.js';
export { SESSION_COOKIE } from './session.js';
export { parseXml, escapeXml, type XmlElement } from './xml.js';
export { envelope, data, moRef, type MoRef, type SoapData, type SoapValue } from './soap.js';

/** vim25 version sent in SOAPAction unless the config says otherwise. */
export const DEFAULT_API_VERSION = '7.0.3.0';

export default definePlugin<'iaas', VsphereConfig>({
  kind: 'iaas',
  contract: '^1.0.0',
  configSchema,
  capabilities: ['vm.reboot', 'disk.resize'],
  /** Reads the credential; login waits for the first call, so a vCenter that is down does not stop the control plane starting. */
  async create(config: VsphereConfig, host: PluginHost) {
    const frozen = Object.freeze({ ...config });
    const credential = await readCredential(frozen, host);
    const tls = await fetchTls({ caPem: frozen.ca_cert, insecure: frozen.insecure });
    const session = new VimSession(sdkUrl(frozen.url), credential, tls, frozen.api_version ?? DEFAULT_API_VERSION);
    const vim = new Vim(session);
    const inventory = new Inventory(vim, frozen);
    const logger = host.logger.child({ plugin: PLUGIN, iaas: host.instanceName });
    if (frozen.insecure)
      logger.warn(
        'TLS verification of vCenter is off (insecure: true): the vCenter password can be read by anyone on the path',
      );
    const ctx: VsphereContext = {
      vim,
      inventory,
      fields: new CustomFields(vim),
      templates: new Templates(vim, inventory),
      config: frozen,
      clock: host.clock,
      logger,
      pollIntervalMs: frozen.poll_interval_ms ?? 500,
    };
    return new VsphereIaasDriver(ctx, async () => {
      await session.logout();
      await tls.close();
    });
  },
});

async function readCredential(config: VsphereConfig, host: PluginHost): Promise<VsphereCredential> {
  if (!host.credentials) {
    throw new SlipwayError('InvalidConfig', 'the vSphere driver needs a credential provider to read credentials_ref', {
      plugin: PLUGIN,
      field: 'credentials_ref',
    });
  }
  const credential = await host.credentials.get(config.credentials_ref, { actor: 'slipway:engine' });
  const value = credential.value as Partial<Record<'username' | 'password', unknown>> | null;
  const ok =
    (credential.type === 'user' || credential.type === 'json') &&
    typeof value?.username === 'string' &&
    value.username !== '' &&
    typeof value.password === 'string' &&
    value.password !== '';
  if (!ok) {
    throw new SlipwayError(
      'InvalidConfig',
      `credential ${config.credentials_ref} must be a user (or json) credential with username and password`,
      {
        plugin: PLUGIN,
        field: 'credentials_ref',
        hint: `slipway credentials set ${config.credentials_ref} --type user --value '{"username":"slipway@vsphere.local","password":…}'`,
      },
    );
  }
  return { username: value!.username as string, password: value!.password as string };
}
