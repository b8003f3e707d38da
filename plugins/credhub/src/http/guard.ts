import type { CredentialProvider } from '@slipway/contracts';
import type { CredhubCredentialProvider } from '../provider.js';

/**
 * Whether the configured credential provider is this plugin's, so its HTTP API can be mounted. Checked by
 * shape, not `instanceof`: the loader may import the plugin from another copy than the core's.
 */
export function isCredhubProvider(provider: CredentialProvider): provider is CredhubCredentialProvider {
  const p = provider as Partial<CredhubCredentialProvider>;
  return (
    typeof p.getVersion === 'function' &&
    typeof p.listCertificates === 'function' &&
    typeof p.auditEvents === 'function' &&
    typeof p.permissions === 'object'
  );
}
