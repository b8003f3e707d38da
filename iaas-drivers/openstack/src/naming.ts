import { createHash } from 'node:crypto';

/** Metadata keys the driver sets on every server, volume, snapshot and image it creates. */
export const AGENT_ID_KEY = 'slipway.agent_id';
export const REQUEST_ID_KEY = 'slipway.request_id';

/**
 * The Nova server tag that makes createVm idempotent: Nova filters servers by tag (`GET /servers/detail?tags=`)
 * exactly, where its name filter is a regular expression and metadata cannot be filtered at all. Tags are at
 * most 60 characters without `/` or `,`, so longer or odd request ids are hashed.
 */
export function requestTag(requestId: string): string {
  const tag = `slipway-request-${requestId}`;
  if (tag.length <= 60 && !/[/,]/.test(tag)) return tag;
  return `slipway-request-${createHash('sha256').update(requestId).digest('hex').slice(0, 40)}`;
}

/** A readable resource name; Nova derives the guest hostname from it, so only DNS-safe characters. */
export function resourceName(prefix: string, id: string): string {
  return `${prefix}-${id.toLowerCase().replace(/[^a-z0-9-]+/g, '-')}`.slice(0, 63).replace(/-+$/, '');
}

/** Nova and Cinder metadata values are strings of at most 255 characters. */
export function metadataOf(entries: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(entries))
    if (value !== undefined) out[key.slice(0, 255)] = String(value).slice(0, 255);
  return out;
}
