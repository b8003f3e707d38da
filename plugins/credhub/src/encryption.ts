import { createCipheriv, createDecipheriv, createHash, randomBytes, scryptSync } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SlipwayError } from '@slipway/contracts';
import type { CredhubConfig } from './config.js';

/**
 * Where the key-encryption key (KEK) comes from. An interface so a KMS or HSM provider can wrap data keys
 * without the store knowing: the KEK itself never leaves the provider.
 */
export interface EncryptionKeyProvider {
  readonly activeKeyId: string;
  wrap(dataKey: Buffer): Promise<Buffer>;
  unwrap(wrapped: Buffer, keyId: string): Promise<Buffer>;
}

/** AES-256-GCM: 12-byte nonce | ciphertext | 16-byte tag. `aad` binds a value to its row. */
export function seal(key: Buffer, plaintext: Buffer, aad: string): Buffer {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(Buffer.from(aad));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([nonce, body, cipher.getAuthTag()]);
}

export function open(key: Buffer, sealed: Buffer, aad: string): Buffer {
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, 12));
  decipher.setAAD(Buffer.from(aad));
  decipher.setAuthTag(sealed.subarray(sealed.length - 16));
  return Buffer.concat([decipher.update(sealed.subarray(12, sealed.length - 16)), decipher.final()]);
}

/** A KEK held in memory, from a key file or an environment variable. */
export class LocalKeyProvider implements EncryptionKeyProvider {
  readonly activeKeyId: string;

  private constructor(private readonly kek: Buffer, private readonly source: string) {
    // The id is a fingerprint: a different key is recognised as different, not used to produce garbage.
    this.activeKeyId = createHash('sha256').update(kek).digest('hex').slice(0, 16);
  }

  static fromConfig(config: CredhubConfig, dataDir: string, env: NodeJS.ProcessEnv = process.env): LocalKeyProvider {
    const enc = config.encryption ?? {};
    if (enc.key_env) {
      const value = env[enc.key_env];
      if (!value) {
        throw new SlipwayError('InvalidConfig', `environment variable ${enc.key_env} (credentials.config.encryption.key_env) is not set`, {
          hint: `Export ${enc.key_env} with a base64 32-byte key or a long passphrase.`,
        });
      }
      const raw = Buffer.from(value, 'base64');
      // A passphrase is stretched with scrypt and a salt kept beside the data.
      const key = raw.length === 32 && /^[A-Za-z0-9+/=]+$/.test(value) ? raw : scryptSync(value, saltOf(dataDir), 32, { N: 1 << 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 });
      return new LocalKeyProvider(key, `env ${enc.key_env}`);
    }
    const file = enc.key_file ?? join(dataDir, 'encryption.key');
    if (!existsSync(file)) {
      if (enc.key_file) throw new SlipwayError('InvalidConfig', `encryption key file ${file} does not exist`, { field: 'credentials.config.encryption.key_file' });
      writeFileSync(file, randomBytes(32).toString('base64'), { mode: 0o600, flag: 'wx' });
    }
    const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
    if (key.length !== 32) throw new SlipwayError('InvalidConfig', `encryption key file ${file} must hold 32 bytes in base64 (it holds ${key.length})`);
    return new LocalKeyProvider(key, `file ${file}`);
  }

  async wrap(dataKey: Buffer): Promise<Buffer> {
    return seal(this.kek, dataKey, `kek:${this.activeKeyId}`);
  }

  async unwrap(wrapped: Buffer, keyId: string): Promise<Buffer> {
    if (keyId !== this.activeKeyId) {
      throw new SlipwayError('InvalidConfig', `a credential is encrypted under key ${keyId}, but the configured key (${this.source}) is ${this.activeKeyId}`, {
        hint: 'Configure the key the store was written with (credentials.config.encryption), or restore it.',
      });
    }
    return open(this.kek, wrapped, `kek:${keyId}`);
  }
}

function saltOf(dataDir: string): Buffer {
  const file = join(dataDir, 'encryption.salt');
  if (!existsSync(file)) writeFileSync(file, randomBytes(16).toString('base64'), { mode: 0o600, flag: 'wx' });
  return Buffer.from(readFileSync(file, 'utf8'), 'base64');
}
