import { createHash } from 'node:crypto';
import type { Tag } from '@aws-sdk/client-ec2';

/** Tags the driver sets on what it creates, beside the caller's metadata. */
export const AGENT_ID_TAG = 'slipway.agent_id';
export const REQUEST_ID_TAG = 'slipway.request_id';
/** Marks every resource the driver created, so an inventory without tags still finds only Slipway's. */
export const MANAGED_TAG = 'slipway.managed';

/** What a ClientToken is for: EC2 scopes tokens per action, the hash keeps the purposes apart anyway. */
export type TokenPurpose = 'vm' | 'disk';

/**
 * EC2's idempotency token for a request id: at most 64 ASCII characters, so the id is hashed. `generation`
 * moves to a fresh token when the resource the previous token made is gone for good: EC2 keeps answering a
 * token with its (terminated) instance for a long time, and a create for the same requestId after that must
 * give a new VM, not the dead one.
 */
export function clientToken(purpose: TokenPurpose, requestId: string, generation: number): string {
  const digest = createHash('sha256').update(`${purpose}\0${requestId}\0${generation}`).digest('hex');
  return `slipway-${purpose}-${digest.slice(0, 48)}`;
}

/** EC2 allows 50 tags per resource, keys up to 128 characters and values up to 256. */
const MAX_TAGS = 50;

/**
 * The EC2 tag list for a set of entries; later sources win (defaults, then the caller's metadata, then the
 * driver's own keys). Keys starting with `aws:` are reserved by AWS and dropped.
 */
export function tagList(...sources: Array<Record<string, string | undefined> | undefined>): Tag[] {
  const merged = new Map<string, string>();
  for (const source of sources) {
    for (const [key, value] of Object.entries(source ?? {})) {
      if (value === undefined || key.toLowerCase().startsWith('aws:')) continue;
      merged.set(key.slice(0, 128), String(value).slice(0, 256));
    }
  }
  return [...merged].slice(0, MAX_TAGS).map(([Key, Value]) => ({ Key, Value }));
}

export function tagRecord(tags: Tag[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const tag of tags ?? []) if (tag.Key !== undefined) out[tag.Key] = tag.Value ?? '';
  return out;
}

/** EBS sizes are whole GiB: a size in MiB is rounded up, never down (a disk is never smaller than asked). */
export function gibFromMib(sizeMb: number): number {
  return Math.max(1, Math.ceil(sizeMb / 1024));
}

/** A short stable digest for names (AMI names must be unique per account and region). */
export function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 12);
}
