import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { throwIfAborted } from '@slipway/contracts';
import { aadOf } from '../vault.js';
import type { ValueSealer } from './sealer.js';
import type { CredentialDb } from '../store/schema.js';

export interface KeyRotationProgress {
  /** Versions re-encrypted under the active key so far. */
  rotated: number;
  /** Versions that were under an inactive key when the rotation started. */
  total: number;
  /** Versions still under an inactive key that can be opened. */
  remaining: number;
  /** Versions under keys no configured provider knows: left as they are, unreadable until their key returns. */
  unknown: number;
}

/** How many versions each key holds: CredHub's /api/v1/key-usage. */
export interface KeyUsage {
  active_key: number;
  inactive_keys: number;
  unknown_keys: number;
}

export async function keyUsage(db: CredentialDb, sealer: ValueSealer): Promise<KeyUsage> {
  const rows = await db
    .selectFrom('credential_versions')
    .select(['key_id', (eb) => eb.fn.countAll<number>().as('n')])
    .groupBy('key_id')
    .execute();
  const usage: KeyUsage = { active_key: 0, inactive_keys: 0, unknown_keys: 0 };
  for (const row of rows) {
    const n = Number(row.n);
    if (row.key_id === sealer.activeKeyId) usage.active_key += n;
    else if (sealer.canOpen(row.key_id)) usage.inactive_keys += n;
    else usage.unknown_keys += n;
  }
  return usage;
}

/**
 * Re-encrypts every version held under an inactive key: each value is opened and sealed again under a
 * fresh data key wrapped by the active key. Online: it works in small batches and yields between them,
 * each row is replaced in one statement and only if it is still under the old key, so reads and writes
 * go on (a value is readable under either key) and two rotations cannot clash. Progress after each batch.
 */
export async function rotateEncryptionKeys(
  db: CredentialDb,
  sealer: ValueSealer,
  options: { batchSize?: number; signal?: AbortSignal; onProgress?: (progress: KeyRotationProgress) => void } = {},
): Promise<KeyRotationProgress> {
  const batchSize = options.batchSize ?? 100;
  const usage = await keyUsage(db, sealer);
  const progress: KeyRotationProgress = {
    rotated: 0,
    total: usage.inactive_keys,
    remaining: usage.inactive_keys,
    unknown: usage.unknown_keys,
  };
  const keyIds = (await db.selectFrom('credential_versions').select('key_id').distinct().execute())
    .map((r) => r.key_id)
    .filter((id) => id !== sealer.activeKeyId && sealer.canOpen(id));
  if (!keyIds.length) return progress;
  let after = 0;
  for (;;) {
    throwIfAborted(options.signal);
    const rows = await db
      .selectFrom('credential_versions')
      .select(['seq', 'id', 'name', 'sealed', 'wrapped_key', 'key_id'])
      .where('key_id', 'in', keyIds)
      .where('seq', '>', after)
      .orderBy('seq')
      .limit(batchSize)
      .execute();
    if (!rows.length) break;
    for (const row of rows) {
      const aad = aadOf(row.id, row.name);
      const resealed = await sealer.seal(await sealer.open(row, aad), aad);
      const result = await db
        .updateTable('credential_versions')
        .set(resealed)
        .where('id', '=', row.id)
        .where('key_id', '=', row.key_id)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) > 0) progress.rotated++;
      progress.remaining--;
    }
    after = rows[rows.length - 1].seq;
    options.onProgress?.({ ...progress });
    await yieldToEventLoop();
  }
  progress.remaining = (await keyUsage(db, sealer)).inactive_keys;
  return progress;
}
