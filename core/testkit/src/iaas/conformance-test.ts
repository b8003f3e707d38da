import { expect } from 'vitest';
import { SlipwayError, type IaasCapability } from '@slipway/contracts';
import type { IaasConformanceContext } from './context.js';

export const CONFORMANCE_GROUPS = ['module', 'stemcell', 'vm', 'disk', 'errors', 'signal', 'concurrency'] as const;
export type ConformanceGroup = (typeof CONFORMANCE_GROUPS)[number];

/** One test of the IaaS conformance suite. */
export interface ConformanceTest {
  group: ConformanceGroup;
  name: string;
  /** Runs only when the plugin declares this capability. */
  capability?: IaasCapability;
  timeoutMs?: number;
  run(ctx: IaasConformanceContext): Promise<void>;
}

/** `group > name`, the name a skip uses. */
export function fullName(test: Pick<ConformanceTest, 'group' | 'name'>): string {
  return `${test.group} > ${test.name}`;
}

/** Awaits a call that must fail with a SlipwayError; returns it for further checks. */
export async function expectSlipwayError(call: Promise<unknown>, what: string): Promise<SlipwayError> {
  let outcome: unknown;
  try {
    outcome = await call;
  } catch (error) {
    expect(SlipwayError.is(error), `${what} must throw a SlipwayError, got ${String(error)}`).toBe(true);
    return error as SlipwayError;
  }
  throw new SlipwayError('Internal', `${what} must fail, but it returned ${JSON.stringify(outcome)}`);
}

/** Polls `check` until it is true or `timeoutMs` passes. */
export async function eventually(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new SlipwayError('Timeout', `${what} did not happen within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
