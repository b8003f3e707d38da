import type { CredentialContext } from '@slipway/contracts';
import type { AuditLog, AuditNote, AuditOperation } from './audit.js';
import { normalizeName } from './names.js';

/**
 * Runs one provider call under the audit trail: the name is normalized first (an invalid one is audited
 * as given), and the event records how the call ended. `null` means the operation names no credential;
 * anything else that is not a valid name (undefined, a number, true) is refused as InvalidInput.
 */
export function audited<T>(
  log: AuditLog,
  ctx: CredentialContext,
  operation: AuditOperation,
  rawName: unknown,
  work: (note: AuditNote, name: string) => Promise<T>,
  field = 'name',
): Promise<T> {
  const note: AuditNote = { name: rawName === null || rawName === undefined ? null : (rawName as string) };
  return log.around(ctx, operation, note, async () => {
    const name = rawName === null ? '' : normalizeName(rawName, field);
    if (rawName !== null) note.name = name;
    return work(note, name);
  });
}
