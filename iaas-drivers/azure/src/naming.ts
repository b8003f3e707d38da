import { createHash, randomUUID } from 'node:crypto';

/** Tags the driver sets on every VM, NIC, disk, snapshot and image it creates. */
export const AGENT_ID_TAG = 'slipway.agent_id';
export const REQUEST_ID_TAG = 'slipway.request_id';

/**
 * ARM PUTs are idempotent by resource name, so the name is derived from the request id: the same requestId
 * gives the same name, hence the same VM or disk, across a control-plane restart. Hashed because request ids
 * may be longer than Azure's name limits (64 for a Linux VM's computer name) or hold characters names refuse.
 */
export function resourceName(
  prefix: 'slipway-vm' | 'slipway-disk' | 'slipway-snap' | 'slipway-stemcell',
  requestId: string | undefined,
): string {
  const key = requestId ?? randomUUID();
  return `${prefix}-${createHash('sha256').update(key).digest('hex').slice(0, 24)}`;
}

/** The NIC and OS disk of a VM are named after it, so deleting the VM can find them without a lookup. */
export function nicNameOf(vmName: string): string {
  return `${vmName}-nic`;
}

export function osDiskNameOf(vmName: string): string {
  return `${vmName}-os`;
}

/**
 * Azure tags: names up to 512 characters without `< > % & \ ? /`, values up to 256 characters, 50 per
 * resource. Longer values are cut; refused characters in names become `_`.
 */
export function tagsOf(entries: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(entries)) {
    if (value === undefined) continue;
    out[key.replace(/[<>%&\\?/]/g, '_').slice(0, 512)] = String(value).slice(0, 256);
  }
  return out;
}

/** Whether a resource's tags hold every pair of `wanted`. */
export function hasTags(tags: Record<string, string> | undefined, wanted: Record<string, string>): boolean {
  return Object.entries(wanted).every(([key, value]) => tags?.[key] === value);
}
