import type { Clock, Logger } from '@slipway/contracts';
import type { ComputeClient } from './client.js';
import type { GcpConfig } from './config.js';
import type { MachineTypeCatalog } from './machine-types.js';
import type { OperationRunner } from './operations.js';

/** What the driver's operation groups share. */
export interface GcpContext {
  readonly client: ComputeClient;
  readonly operations: OperationRunner;
  readonly machineTypes: MachineTypeCatalog;
  readonly config: Readonly<GcpConfig>;
  /** The project every resource is created in. */
  readonly project: string;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** Reads a string cloud property of a plan or call (`machine_type`, `zone`...). */
export function stringProperty(properties: Record<string, unknown> | undefined, key: string): string | undefined {
  const value = properties?.[key];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

export function numberProperty(properties: Record<string, unknown> | undefined, key: string): number | undefined {
  const value = properties?.[key];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

export function stringListProperty(properties: Record<string, unknown> | undefined, key: string): string[] | undefined {
  const value = properties?.[key];
  return Array.isArray(value) && value.every((v) => typeof v === 'string') ? (value as string[]) : undefined;
}
