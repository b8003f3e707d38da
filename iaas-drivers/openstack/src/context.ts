import type { Clock, Logger } from '@slipway/contracts';
import type { BlockStorageApi } from './block-storage.js';
import type { ComputeApi } from './compute.js';
import type { OpenStackConfig } from './config.js';
import type { ImageApi } from './image.js';

/** What the driver's operation groups share: the three service APIs and how to wait. */
export interface OpenStackContext {
  readonly compute: ComputeApi;
  readonly volumes: BlockStorageApi;
  readonly images: ImageApi;
  readonly config: Readonly<OpenStackConfig>;
  readonly clock: Clock;
  readonly pollIntervalMs: number;
  readonly logger: Logger;
}

/** Reads a string cloud property of a plan or call (`instance_type`, `network_id`...). */
export function stringProperty(properties: Record<string, unknown> | undefined, key: string): string | undefined {
  const value = properties?.[key];
  return typeof value === 'string' && value !== '' ? value : undefined;
}
