import { createHash, randomUUID } from 'node:crypto';
import { SlipwayError } from '@slipway/contracts';
import { PLUGIN } from './errors.js';

/**
 * How the driver names things. Instance and disk names are unique per zone, so a VM's or disk's id is
 * `ZONE/NAME` (`europe-west1-b/slipway-vm-3f2a9c0e5d1b7a64`): every verb reaches it without a lookup.
 * Snapshots and images are global: their id is the name.
 */
export interface ZonalRef {
  zone: string;
  name: string;
}

const NAME = /^[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?$/;
const ZONE = /^[a-z]+-[a-z]+[0-9]+-[a-z]$/;

export function zonalId(ref: ZonalRef): string {
  return `${ref.zone}/${ref.name}`;
}

/** Parses a `ZONE/NAME` id; anything else was not made by this driver. */
export function parseZonalId(id: string, field: 'vmId' | 'diskId'): ZonalRef {
  const [zone, name, ...rest] = id.split('/');
  if (rest.length > 0 || !zone || !name || !ZONE.test(zone) || !NAME.test(name)) {
    throw new SlipwayError(
      'InvalidInput',
      `${field} "${id}" is not a Compute Engine ${field === 'vmId' ? 'instance' : 'disk'} id of the form ZONE/NAME`,
      { plugin: PLUGIN, field },
    );
  }
  return { zone, name };
}

/**
 * A resource name derived from the request id, so a repeated request names the same resource (GCE refuses a
 * second one with 409 alreadyExists, long after its own requestId window has passed), or a random one.
 */
export function resourceName(prefix: string, requestId: string | undefined): string {
  const seed = requestId ?? randomUUID();
  return `${prefix}-${createHash('sha256').update(seed).digest('hex').slice(0, 16)}`;
}

/** A lowercase, name-safe rendering of free text (stemcell names), at most `max` characters. */
export function nameSafe(text: string, max: number): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, max)
    .replace(/-+$/, '');
}

/** The last path segment of a resource URL (`.../zones/us-central1-a` -> `us-central1-a`). */
export function lastSegment(url: string): string {
  return url.slice(url.lastIndexOf('/') + 1);
}

/** `projects/...` from a full resource URL, a `/compute/v1/projects/...` path or a relative reference. */
export function relativeResource(url: string): string {
  const at = url.indexOf('projects/');
  return at >= 0 ? url.slice(at) : url.replace(/^\/+/, '');
}

/** `ZONE/NAME` of an instance or disk URL (`.../zones/Z/instances/N`). */
export function zonalRefOfUrl(url: string): ZonalRef | undefined {
  const match = /\/zones\/([^/]+)\/(?:instances|disks)\/([^/?]+)/.exec(url);
  return match ? { zone: match[1]!, name: match[2]! } : undefined;
}

/** The region a zone belongs to (`europe-west1-b` -> `europe-west1`). */
export function regionOf(zone: string): string {
  return zone.replace(/-[a-z]$/, '');
}

/** Slipway's UUID namespace for GCE request ids (itself a random v4 UUID, fixed forever). */
export const REQUEST_ID_NAMESPACE = '9d6c3a52-41f7-4e8b-b0a5-7f2e6c1d8a93';

/**
 * A name-based UUID (version 5, RFC 9562: SHA-1 over namespace and name): GCE wants its `requestId` to be a
 * UUID, Slipway's request ids are free text (`vm:AGENT`, `stemcell:ubuntu/1.2`).
 */
export function uuidV5(name: string, namespace: string = REQUEST_ID_NAMESPACE): string {
  const hash = createHash('sha1')
    .update(Buffer.from(namespace.replace(/-/g, ''), 'hex'))
    .update(name, 'utf8')
    .digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
