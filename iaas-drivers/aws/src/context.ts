import type { Clock, Logger } from '@slipway/contracts';
import type { ResolvedAwsConfig } from './config.js';
import type { RecentResources } from './consistency.js';
import type { Ec2Api } from './ec2.js';

/** What the driver's operation groups share. */
export interface AwsContext {
  readonly ec2: Ec2Api;
  readonly config: Readonly<ResolvedAwsConfig>;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly recent: RecentResources;
}

/** Reads a string cloud property of a plan or call (`instance_type`, `subnet_id`...). */
export function stringProperty(properties: Record<string, unknown> | undefined, key: string): string | undefined {
  const value = properties?.[key];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

export function stringListProperty(properties: Record<string, unknown> | undefined, key: string): string[] | undefined {
  const value = properties?.[key];
  return Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string')
    ? (value as string[])
    : undefined;
}

export function numberProperty(properties: Record<string, unknown> | undefined, key: string): number | undefined {
  const value = properties?.[key];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** The poll settings of a verb. */
export function pollOptions(ctx: AwsContext, what: string, signal?: AbortSignal) {
  return {
    clock: ctx.clock,
    intervalMs: ctx.config.poll_interval_ms,
    timeoutMs: ctx.config.operation_timeout_seconds * 1000,
    what,
    signal,
  };
}
