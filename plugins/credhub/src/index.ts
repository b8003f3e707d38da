import { join } from 'node:path';
import { definePlugin } from '@slipway/contracts';
import { configSchema, type CredhubConfig } from './config.js';
import { LocalKeyProvider } from './encryption.js';
import { CredhubCredentialProvider } from './provider.js';
import { openCredentialDb } from './store.js';

export { CredhubCredentialProvider } from './provider.js';
export { LocalKeyProvider, type EncryptionKeyProvider } from './encryption.js';
export type { CredhubConfig } from './config.js';

export default definePlugin({
  kind: 'credentials',
  contract: '^1.0.0',
  configSchema,
  async create(config: CredhubConfig, host) {
    const keys = LocalKeyProvider.fromConfig(config, host.dataDir);
    const db = await openCredentialDb(join(host.dataDir, 'credhub.db'));
    host.logger.info('credential store open', { key: keys.activeKeyId });
    return new CredhubCredentialProvider(db, keys);
  },
});
