import { randomBytes } from 'node:crypto';
import { SlipwayError } from '@slipway/contracts';
import { open, seal } from './cipher.js';
import type { EncryptionKeyProvider } from './key-provider.js';

/** A value as stored: ciphertext, the wrapped data key and the id of the key that wrapped it. */
export interface SealedValue {
  sealed: Buffer;
  wrapped_key: Buffer;
  key_id: string;
}

/** How values are sealed at rest. The store uses EnvelopeSealer; the seam lets a benchmark measure its cost. */
export interface ValueSealer {
  readonly activeKeyId: string;
  /** Whether values under `keyId` can be opened. */
  canOpen(keyId: string): boolean;
  seal(plaintext: Buffer, aad: string): Promise<SealedValue>;
  open(value: SealedValue, aad: string): Promise<Buffer>;
}

/** Unwrapped data keys kept for reads; a KMS or HSM provider's unwrap is a round trip, the local one a cipher. */
const DATA_KEY_CACHE = 4096;

/**
 * Envelope encryption: each value gets its own random 256-bit data key (AES-256-GCM), and the data key
 * is wrapped by the key provider's active KEK. Rotating the KEK re-seals values; a leaked data key
 * exposes one version of one credential. Recently used data keys stay unwrapped in memory (bounded),
 * which halves the cipher work of a read and spares a KMS a call per read; the values never do.
 */
export class EnvelopeSealer implements ValueSealer {
  private readonly dataKeys = new Map<string, Buffer>();

  constructor(private readonly keys: EncryptionKeyProvider) {}

  get activeKeyId(): string {
    return this.keys.activeKeyId;
  }

  canOpen(keyId: string): boolean {
    return this.keys.keyIds.includes(keyId);
  }

  async seal(plaintext: Buffer, aad: string): Promise<SealedValue> {
    const dataKey = randomBytes(32);
    try {
      return {
        sealed: seal(dataKey, plaintext, aad),
        wrapped_key: await this.keys.wrap(dataKey),
        key_id: this.keys.activeKeyId,
      };
    } finally {
      dataKey.fill(0);
    }
  }

  async open(value: SealedValue, aad: string): Promise<Buffer> {
    const dataKey = this.cachedKey(value, aad) ?? (await this.unwrap(value, aad));
    try {
      return open(dataKey, value.sealed, aad);
    } catch (e) {
      throw new SlipwayError(
        'Internal',
        `a stored value fails its integrity check (${aad}): it was altered in the store`,
        { cause: e },
      );
    }
  }

  /**
   * The AAD names the version (id and name) and a version's data key changes only together with its key
   * id (rotation re-seals under the active key), so key id and AAD identify a data key.
   */
  private cachedKey(value: SealedValue, aad: string): Buffer | undefined {
    const id = `${value.key_id}|${aad}`;
    const cached = this.dataKeys.get(id);
    if (cached) {
      // Most recently used last: the first entry is the one to evict.
      this.dataKeys.delete(id);
      this.dataKeys.set(id, cached);
    }
    return cached;
  }

  private async unwrap(value: SealedValue, aad: string): Promise<Buffer> {
    const dataKey = await this.keys.unwrap(value.wrapped_key, value.key_id);
    // An evicted key is dropped, not zeroed: a read that already holds it may not have used it yet.
    if (this.dataKeys.size >= DATA_KEY_CACHE) this.dataKeys.delete(this.dataKeys.keys().next().value!);
    this.dataKeys.set(`${value.key_id}|${aad}`, dataKey);
    return dataKey;
  }
}
