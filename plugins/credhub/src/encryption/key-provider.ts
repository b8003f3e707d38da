import { createHash, randomBytes, scryptSync } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SlipwayError } from '@slipway/contracts';
import type { CredhubConfig, KeySourceConfig } from '../config.js';
import { open, seal } from './cipher.js';

/**
 * Where key-encryption keys (KEKs) live. The store hands a provider each value's data key to wrap and
 * gets it back unwrapped to read; the KEK itself never leaves the provider, so a KMS or HSM provider
 * (wrap = Encrypt, unwrap = Decrypt on the device) implements these three members and nothing else.
 */
export interface EncryptionKeyProvider {
  /** The key new data keys are wrapped under. */
  readonly activeKeyId: string;
  /** Every key it can unwrap with: the active one and older ones kept for reading and rotation. */
  readonly keyIds: readonly string[];
  wrap(dataKey: Buffer): Promise<Buffer>;
  unwrap(wrapped: Buffer, keyId: string): Promise<Buffer>;
}

interface LocalKey {
  id: string;
  kek: Buffer;
  source: string;
}

/**
 * KEKs held in memory, read from key files or environment variables (CredHub's `internal` provider).
 * A key's id is a fingerprint of it, so a different key is recognised as different instead of producing
 * garbage, and two configured copies of one key are one key.
 */
export class LocalKeyProvider implements EncryptionKeyProvider {
  readonly activeKeyId: string;
  readonly keyIds: readonly string[];
  private readonly keys: Map<string, LocalKey>;

  private constructor(keys: LocalKey[], active: LocalKey) {
    this.keys = new Map(keys.map((k) => [k.id, k]));
    this.activeKeyId = active.id;
    this.keyIds = Object.freeze([...this.keys.keys()]);
  }

  /**
   * Keys as configured; without any, the default key file (mode 0600), created on first use: in the host's
   * keys directory, outside the home, so a backup of the home never holds it. A home made by an earlier
   * version keeps its key at the old place, in the data directory, with a notice to move it.
   */
  static fromConfig(
    config: CredhubConfig,
    dataDir: string,
    env: NodeJS.ProcessEnv = process.env,
    options: DefaultKeyOptions = {},
  ): LocalKeyProvider {
    const enc = config.encryption ?? {};
    const single = enc.key_env
      ? [{ key_env: enc.key_env, active: true }]
      : enc.key_file
        ? [{ key_file: enc.key_file, active: true }]
        : [];
    if (single.length && enc.keys) {
      throw new SlipwayError(
        'InvalidConfig',
        'credentials.config.encryption: use either keys or key_file/key_env, not both',
        { field: 'credentials.config.encryption.keys' },
      );
    }
    const generated = !enc.keys && !single.length;
    const sources: KeySourceConfig[] =
      enc.keys ?? (single.length ? single : [{ key_file: defaultKeyFile(dataDir, options), active: true }]);
    const actives = sources.filter((s) => s.active ?? sources.length === 1);
    if (actives.length !== 1) {
      throw new SlipwayError(
        'InvalidConfig',
        `credentials.config.encryption.keys: exactly one key must be active; ${actives.length} are`,
        {
          field: 'credentials.config.encryption.keys',
          hint: 'Mark the key new values go under with active: true.',
        },
      );
    }
    const keys = sources.map((s, i) => readKey(s, i, dataDir, env, generated && options.create !== false));
    return new LocalKeyProvider(keys, keys[sources.indexOf(actives[0])]);
  }

  /** Each key's id and where it came from (a file or a variable), never the key. */
  describe(): Array<{ id: string; source: string }> {
    return [...this.keys.values()].map((k) => ({ id: k.id, source: k.source }));
  }

  /** Keys given directly (tests, embedding): the first is active. */
  static fromKeys(keys: Buffer[]): LocalKeyProvider {
    const local = keys.map((kek, i) => ({
      id: fingerprint(kek),
      kek: checkLength(kek, `key ${i}`),
      source: `key ${i}`,
    }));
    return new LocalKeyProvider(local, local[0]);
  }

  async wrap(dataKey: Buffer): Promise<Buffer> {
    return seal(this.keys.get(this.activeKeyId)!.kek, dataKey, `kek:${this.activeKeyId}`);
  }

  async unwrap(wrapped: Buffer, keyId: string): Promise<Buffer> {
    const key = this.keys.get(keyId);
    if (!key) {
      throw new SlipwayError(
        'InvalidConfig',
        `a credential is encrypted under key ${keyId}, but the configured keys are ${this.keyIds.join(', ')} (${[...this.keys.values()].map((k) => k.source).join('; ')})`,
        {
          hint: 'Configure the key the store was written with (credentials.config.encryption.keys), or restore it.',
        },
      );
    }
    return open(key.kek, wrapped, `kek:${keyId}`);
  }
}

export interface DefaultKeyOptions {
  /** The host's directory for key material, outside the home. */
  keysDir?: string;
  /** Create the default key file when it is missing (default true; a restore's check passes false). */
  create?: boolean;
  /** Told once when an existing home's key is still at the old place. */
  notice?: (message: string, fields: Record<string, unknown>) => void;
}

/** The file name of the default key in the keys directory. */
export const DEFAULT_KEY_FILE = 'credhub-encryption.key';
/** Where earlier versions created the default key: in the data directory, inside the home. */
export const LEGACY_KEY_FILE = 'encryption.key';

function defaultKeyFile(dataDir: string, options: DefaultKeyOptions): string {
  const legacy = join(dataDir, LEGACY_KEY_FILE);
  if (!options.keysDir) return legacy;
  const file = join(options.keysDir, DEFAULT_KEY_FILE);
  if (existsSync(legacy) && !existsSync(file)) {
    options.notice?.(
      'the credential encryption key is inside the home, where a copy of the home takes it along; it keeps being used there',
      {
        key_file: legacy,
        hint: `Stop Slipway, move it to ${file} (mode 0600), and keep a copy apart from your backups.`,
      },
    );
    return legacy;
  }
  if (options.create !== false) mkdirSync(options.keysDir, { recursive: true, mode: 0o700 });
  return file;
}

function readKey(
  source: KeySourceConfig,
  index: number,
  dataDir: string,
  env: NodeJS.ProcessEnv,
  createIfMissing: boolean,
): LocalKey {
  const field = `credentials.config.encryption.keys[${index}]`;
  if (source.key_env && source.key_file)
    throw new SlipwayError('InvalidConfig', `${field}: give key_file or key_env, not both`, { field });
  if (source.key_env) {
    const value = env[source.key_env];
    if (!value) {
      throw new SlipwayError('InvalidConfig', `environment variable ${source.key_env} (${field}.key_env) is not set`, {
        field,
        hint: `Export ${source.key_env} with a base64 32-byte key or a long passphrase.`,
      });
    }
    const raw = Buffer.from(value, 'base64');
    // A passphrase is stretched with scrypt and a salt kept beside the data.
    const kek =
      raw.length === 32 && /^[A-Za-z0-9+/=]+$/.test(value)
        ? raw
        : scryptSync(value, saltOf(dataDir), 32, { N: 1 << 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 });
    return { id: fingerprint(kek), kek, source: `env ${source.key_env}` };
  }
  if (!source.key_file) throw new SlipwayError('InvalidConfig', `${field}: give key_file or key_env`, { field });
  const file = source.key_file;
  if (!existsSync(file)) {
    if (!createIfMissing) {
      throw new SlipwayError('InvalidConfig', `encryption key file ${file} does not exist`, {
        field: `${field}.key_file`,
        hint: 'Put the key file you kept there (32 bytes in base64, mode 0600), or configure credentials.config.encryption.',
      });
    }
    writeFileSync(file, randomBytes(32).toString('base64'), { mode: 0o600, flag: 'wx' });
  }
  const kek = checkLength(Buffer.from(readFileSync(file, 'utf8').trim(), 'base64'), `encryption key file ${file}`);
  return { id: fingerprint(kek), kek, source: `file ${file}` };
}

function checkLength(kek: Buffer, what: string): Buffer {
  if (kek.length !== 32)
    throw new SlipwayError('InvalidConfig', `${what} must hold 32 bytes in base64 (it holds ${kek.length})`);
  return kek;
}

function fingerprint(kek: Buffer): string {
  return createHash('sha256').update(kek).digest('hex').slice(0, 16);
}

function saltOf(dataDir: string): Buffer {
  const file = join(dataDir, 'encryption.salt');
  if (!existsSync(file)) writeFileSync(file, randomBytes(16).toString('base64'), { mode: 0o600, flag: 'wx' });
  return Buffer.from(readFileSync(file, 'utf8'), 'base64');
}
