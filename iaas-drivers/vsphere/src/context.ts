import type { Clock, Logger } from '@slipway/contracts';
import type { VsphereConfig } from './config.js';
import type { CustomFields } from './custom-fields.js';
import type { PermanentCode } from './errors.js';
import type { Inventory } from './inventory.js';
import type { MoRef } from './soap.js';
import { waitForTask } from './tasks.js';
import type { Templates } from './templates.js';
import type { Vim } from './vim.js';
import type { XmlElement } from './xml.js';

/** What the driver's operation groups share. */
export interface VsphereContext {
  readonly vim: Vim;
  readonly inventory: Inventory;
  readonly fields: CustomFields;
  readonly templates: Templates;
  readonly config: Readonly<VsphereConfig>;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly pollIntervalMs: number;
}

/** Starts a task method and waits for its Task: the result on success, the mapped fault on error. */
export async function runTask(
  ctx: VsphereContext,
  method: string,
  start: Promise<MoRef>,
  options: { signal?: AbortSignal; permanent?: PermanentCode } = {},
): Promise<XmlElement | undefined> {
  const task = await start;
  return waitForTask(ctx.vim, task, method, { clock: ctx.clock, maxIntervalMs: ctx.pollIntervalMs, ...options });
}

/** Reads a string cloud property of a plan or call. */
export function stringProperty(properties: Record<string, unknown> | undefined, key: string): string | undefined {
  const value = properties?.[key];
  return typeof value === 'string' && value !== '' ? value : undefined;
}
