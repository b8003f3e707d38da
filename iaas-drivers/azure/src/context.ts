import type { Clock, Logger } from '@slipway/contracts';
import type { ArmResources } from './arm-resources.js';
import type { AzureConfig } from './config.js';

/** What the driver's operation groups share. */
export interface AzureContext {
  readonly api: ArmResources;
  readonly config: Readonly<AzureConfig>;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** Reads a string cloud property of a plan or call (`instance_type`, `storage_account_type`...). */
export function stringProperty(properties: Record<string, unknown> | undefined, key: string): string | undefined {
  const value = properties?.[key];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Managed disks come in whole GiB: a size in MiB is rounded up, never down. */
export function gibFromMib(sizeMb: number): number {
  return Math.max(1, Math.ceil(sizeMb / 1024));
}
