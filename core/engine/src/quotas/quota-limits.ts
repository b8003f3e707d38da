import { SlipwayError } from '@slipway/contracts';

/** TKGI's quota limits as the API speaks them: whole CPUs, memory in GB, a number of clusters. */
export interface QuotaLimit {
  cpu: number | null;
  memory: number | null;
  cluster: number | null;
}

export const LIMIT_FIELDS = ['cpu', 'memory', 'cluster'] as const;
export type LimitField = (typeof LIMIT_FIELDS)[number];

const OWNER = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$/;

export function checkOwner(owner: unknown, field: string): string {
  if (typeof owner !== 'string' || !OWNER.test(owner)) {
    throw new SlipwayError(
      'InvalidInput',
      `${field} must be a user name (letters, digits, ".", "_", "@", "-"; up to 100); got ${JSON.stringify(owner)}`,
      { field },
    );
  }
  return owner;
}

/**
 * Reads `limit` of a request. A field left out keeps its old value (none on create: no limit), null clears it,
 * 0 allows none of that resource: as in TKGI, cpu or memory 0 means the owner can create no cluster at all.
 * Every bad field is named at once.
 */
export function readLimit(body: unknown, previous: QuotaLimit | undefined): QuotaLimit {
  const limit = (body as { limit?: unknown } | null)?.limit;
  if (typeof limit !== 'object' || limit === null || Array.isArray(limit)) {
    throw new SlipwayError(
      'InvalidInput',
      'limit must be an object with any of cpu (CPUs), memory (GB), cluster (clusters)',
      { field: 'limit' },
    );
  }
  const raw = limit as Record<string, unknown>;
  const problems: string[] = [];
  for (const key of Object.keys(raw)) {
    if (!(LIMIT_FIELDS as readonly string[]).includes(key))
      problems.push(`limit.${key}: unknown; the limits are cpu, memory (GB) and cluster`);
  }
  const result: QuotaLimit = { ...(previous ?? { cpu: null, memory: null, cluster: null }) };
  for (const key of LIMIT_FIELDS) {
    if (!(key in raw)) continue;
    const value = raw[key];
    if (value === null) {
      result[key] = null;
      continue;
    }
    const whole = key !== 'memory';
    const ok =
      typeof value === 'number' &&
      Number.isFinite(value) &&
      value >= 0 &&
      value <= 1_000_000 &&
      (whole ? Number.isInteger(value) : Number.isInteger(value * 1024));
    if (!ok) {
      problems.push(
        `limit.${key}: must be ${whole ? 'a whole number' : 'a number of GB (in steps of 1/1024)'} from 0 to 1000000, or null for no limit; got ${JSON.stringify(value)}`,
      );
      continue;
    }
    result[key] = value as number;
  }
  if (problems.length) {
    const first = problems[0]!.split(':')[0]!;
    throw new SlipwayError('InvalidInput', problems.join('; '), { field: first, details: { problems } });
  }
  return result;
}
