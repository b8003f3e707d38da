import { join } from 'node:path';
import {
  definePlugin,
  SlipwayError,
  type AuditSink,
  type Clock,
  type HttpApiHost,
  type Logger,
  type PluginDatabase,
} from '@slipway/contracts';
import { credhubPluginApi } from './http/plugin-api.js';
import { configSchema, type CredhubConfig } from './config.js';
import { LocalKeyProvider, type EncryptionKeyProvider } from './encryption/key-provider.js';
import { keyUsage } from './encryption/rotation.js';
import { EnvelopeSealer, type ValueSealer } from './encryption/sealer.js';
import { CredhubCredentialProvider } from './provider.js';
import { keyIdsInUse, openCredentialDb, openSharedCredentialDb } from './store/open.js';

/** The credential database's file name in the plugin's data directory. */
const CREDENTIAL_DB = 'credhub.db';

export {
  CredhubCredentialProvider,
  type CertificateListing,
  type FindOptions,
  type CertificateRegenerateOptions,
} from './provider.js';
export type { PermissionService } from './permissions.js';
export { LocalKeyProvider, type EncryptionKeyProvider } from './encryption/key-provider.js';
export { EnvelopeSealer, type ValueSealer, type SealedValue } from './encryption/sealer.js';
export type { KeyRotationProgress, KeyUsage } from './encryption/rotation.js';
export {
  AUDIT_OPERATIONS,
  AUDIT_RESULTS,
  type AuditEvent,
  type AuditFilter,
  type AuditOperation,
  type AuditResult,
} from './audit.js';
export { sha512Crypt } from './generate/sha512-crypt.js';
export { ENGINE_ACTOR, configSchema, type CredhubConfig, type KeySourceConfig } from './config.js';

export interface OpenCredhubOptions {
  /** Where credhub.db (and a generated key file, if no key is configured) live. */
  dataDir: string;
  config?: CredhubConfig;
  /** A key provider other than the configured local keys: a KMS or HSM plugin's. */
  keys?: EncryptionKeyProvider;
  /** Replaces envelope encryption altogether; for benchmarks that measure its cost. */
  sealer?: ValueSealer;
  logger?: Logger;
  env?: NodeJS.ProcessEnv;
  /** The host's directory for key material (outside the home): where the default key file is created. */
  keysDir?: string;
  /** The control plane's clock (certificate validity, expiry queries); default the wall clock. */
  clock?: Pick<Clock, 'now'>;
  /** The control plane's audit trail: every event of this store's own trail is written through to it. */
  audit?: AuditSink;
  /** RSA-2048 keys kept ready in memory; default 2, 0 to generate each on demand (benchmarks). */
  rsaPoolSize?: number;
  /**
   * The control plane's database (PluginHost.database): the store keeps its tables there, and a credhub.db
   * left in dataDir is moved into it once. Without it, credhub.db in dataDir is the store.
   */
  database?: PluginDatabase;
}

/**
 * Opens the credential store: migrates it, prunes old audit events, and, when values are held under a
 * key that is no longer active, re-encrypts them under the active key in the background.
 */
export async function openCredhubProvider(options: OpenCredhubOptions): Promise<CredhubCredentialProvider> {
  const config = options.config ?? {};
  const sealer =
    options.sealer ??
    new EnvelopeSealer(
      options.keys ??
        LocalKeyProvider.fromConfig(config, options.dataDir, options.env, {
          keysDir: options.keysDir,
          notice: (message, fields) => options.logger?.warn(message, fields),
        }),
    );
  const db = options.database
    ? await openSharedCredentialDb(options.database, join(options.dataDir, CREDENTIAL_DB), options.logger)
    : await openCredentialDb(join(options.dataDir, CREDENTIAL_DB));
  const provider = new CredhubCredentialProvider({
    db,
    sharedDb: !!options.database,
    sealer,
    concatenateCas: config.certificates?.concatenate_cas,
    clock: options.clock,
    rsaPoolSize: options.rsaPoolSize,
    audit: options.audit,
    access: { fullAccessActors: config.permissions?.full_access_actors, adminRoles: config.permissions?.admin_roles },
  });
  const log = options.logger;
  try {
    await provider.backfill();
    await provider.auditLog.prune(config.audit?.retention_days ?? 365);
    const usage = await keyUsage(db, sealer);
    log?.info('credential store open', { key: sealer.activeKeyId, ...usage });
    if (usage.unknown_keys) {
      log?.error('credentials are encrypted under keys that are not configured; they cannot be read', {
        versions: usage.unknown_keys,
        hint: 'add the missing key to credentials.config.encryption.keys',
      });
    }
    if (usage.inactive_keys && (config.encryption?.rotate_on_start ?? true)) {
      provider.runInBackground((signal) =>
        provider
          .rotateEncryptionKeys(
            { actor: 'slipway:engine' },
            {
              signal,
              onProgress: (p) => log?.info('re-encrypting credentials under the active key', { ...p }),
            },
          )
          .then(
            (p) => log?.info('encryption key rotation finished', { ...p }),
            (e) => {
              if (!SlipwayError.is(e, 'Cancelled'))
                log?.error('encryption key rotation stopped; it resumes at the next start', {
                  error: e instanceof Error ? e.message : String(e),
                });
            },
          ),
      );
    }
  } catch (e) {
    await provider.destroy();
    throw e;
  }
  return provider;
}

export default definePlugin({
  kind: 'credentials',
  contract: '^1.0.0',
  configSchema,
  async create(config: CredhubConfig, host) {
    // Hosts of contract 1.2 keep the credentials in their own database (one backup, one failover).
    const database = host.database ? await host.database('credhub') : undefined;
    const provider = await openCredhubProvider({
      dataDir: host.dataDir,
      config,
      logger: host.logger,
      keysDir: host.keysDir,
      clock: host.clock,
      database,
      audit: host.audit,
    });
    // The control plane serves CredHub's API from this instance (contract 1.1's httpApi).
    return Object.assign(provider, {
      httpApi: async (api: HttpApiHost) => credhubPluginApi(provider, api, host.logger),
    });
  },
  // The database and the passphrase salt; the key file never (it lives in the host's keys directory).
  backup: {
    databases: [CREDENTIAL_DB],
    files: ['encryption.salt'],
    keyIdsInUse: (dataDir: string, store?: { sqliteFile?: string }) =>
      keyIdsInUse(join(dataDir, CREDENTIAL_DB), store?.sqliteFile),
    async configuredKeys(
      config: CredhubConfig,
      host: { dataDir: string; keysDir?: string; env: Record<string, string | undefined> },
    ) {
      return LocalKeyProvider.fromConfig(config, host.dataDir, host.env, {
        keysDir: host.keysDir,
        create: false,
      }).describe();
    },
  },
});
