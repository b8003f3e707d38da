import { SlipwayError } from '@slipway/contracts';

const CANONICAL_ID = /^[1-9][0-9]{0,14}$/;

/**
 * A numeric id from a path: canonical decimal only (`1`, never `01`, ` 1`, `1abc`, `1e0`), so one id has
 * one spelling and every other spelling is the same 400.
 */
export function positiveId(raw: string, what: string): number {
  if (!CANONICAL_ID.test(raw)) {
    throw new SlipwayError(
      'InvalidInput',
      `${what} id must be a positive integer without leading zeros or spaces; got "${raw.slice(0, 40)}"`,
      { field: 'id' },
    );
  }
  return Number(raw);
}
