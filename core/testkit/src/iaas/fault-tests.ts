import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import type { CreateVmInput } from '@slipway/contracts';
import { expectSlipwayError, type ConformanceTest } from './conformance-test.js';
import type { IaasConformanceContext } from './context.js';

export const errorTests: ConformanceTest[] = [
  {
    group: 'errors',
    name: 'throttling is a retryable SlipwayError',
    async run(ctx) {
      const { fake } = ctx.ready();
      const input = await ctx.vmInput();
      const requestId = randomUUID();
      fake.faults.throttleNext('createVm');
      const error = await expectSlipwayError(ctx.createVm({ requestId }, input), 'createVm while the cloud throttles');
      expect(error.retryable, `a throttled call must be retryable (got code ${error.code})`).toBe(true);
      // What the engine does next: the same call again, which now succeeds.
      await ctx.createVm({ requestId }, input);
    },
  },
  {
    group: 'errors',
    name: 'a cloud 5xx is a retryable SlipwayError',
    async run(ctx) {
      const { fake } = ctx.ready();
      const input = await ctx.vmInput();
      const requestId = randomUUID();
      fake.faults.serverErrorNext('createVm');
      const error = await expectSlipwayError(
        ctx.createVm({ requestId }, input),
        'createVm while the cloud fails with 5xx',
      );
      expect(error.retryable, `a cloud 5xx must be retryable (got code ${error.code})`).toBe(true);
      await ctx.createVm({ requestId }, input);
    },
  },
  {
    group: 'errors',
    name: 'a permanent error is not retryable and keeps the cloud message',
    async run(ctx) {
      const { fake } = ctx.ready();
      const input = await ctx.vmInput();
      const cloudText = fake.faults.permanentErrorNext('createVm');
      const error = await expectSlipwayError(ctx.createVm({}, input), 'createVm with a permanent cloud error');
      expect(error.retryable, `a permanent error must not be retryable (got code ${error.code})`).toBe(false);
      expect(error.code, 'a cloud error is mapped to a specific code, not Internal').not.toBe('Internal');
      if (typeof cloudText === 'string') {
        expect(error.message, "the error keeps the cloud's own message").toContain(cloudText);
      } else {
        expect(error.message.length, "the error carries the cloud's message").toBeGreaterThan(0);
      }
    },
  },
  {
    group: 'errors',
    name: 'an exhausted VM quota is QuotaExceeded',
    async run(ctx) {
      const { fake } = ctx.ready();
      const input = await ctx.vmInput();
      fake.faults.setQuota({ vms: 0 });
      const error = await expectSlipwayError(ctx.createVm({}, input), 'createVm over the VM quota');
      expect(error.code, 'a quota error').toBe('QuotaExceeded');
      expect(error.retryable, 'a quota error is not retried').toBe(false);
    },
  },
];

export const signalTests: ConformanceTest[] = [
  {
    group: 'signal',
    name: 'an already-aborted signal rejects with Cancelled',
    async run(ctx) {
      const input = await ctx.vmInput();
      const requestId = randomUUID();
      const started = Date.now();
      const error = await expectSlipwayError(
        ctx.createVm({ requestId, signal: AbortSignal.abort() }, input),
        'createVm with an aborted signal',
      );
      expect(error.code).toBe('Cancelled');
      expect(Date.now() - started, 'an aborted call returns at once').toBeLessThan(1_000);
      await cleanUpAfterAbort(ctx, input, requestId, 0);
    },
  },
  {
    group: 'signal',
    name: 'aborting mid-call rejects with Cancelled quickly',
    async run(ctx) {
      const { fake } = ctx.ready();
      const input = await ctx.vmInput();
      const requestId = randomUUID();
      // The cloud answers 1.4 s after the abort: a bound of 800 ms tells the two apart with room for a loaded machine.
      fake.faults.setLatency(1_500);
      const controller = new AbortController();
      const call = ctx.createVm({ requestId, signal: controller.signal }, input);
      await new Promise((resolve) => setTimeout(resolve, 100));
      const abortedAt = Date.now();
      controller.abort();
      const error = await expectSlipwayError(call, 'createVm aborted while the cloud is slow');
      expect(error.code).toBe('Cancelled');
      expect(
        Date.now() - abortedAt,
        'the call stops waiting as soon as it is aborted, not when the cloud answers',
      ).toBeLessThan(800);
      await cleanUpAfterAbort(ctx, input, requestId, 1_700);
    },
  },
];

/**
 * An aborted create may still have happened on the cloud. After the slow request has surely landed, the same
 * requestId returns that VM (or makes one), which the test's cleanup deletes.
 */
async function cleanUpAfterAbort(
  ctx: IaasConformanceContext,
  input: CreateVmInput,
  requestId: string,
  settleMs: number,
): Promise<void> {
  ctx.ready().fake.faults.reset();
  await new Promise((resolve) => setTimeout(resolve, settleMs));
  await ctx.createVm({ requestId }, input);
}

export const concurrencyTests: ConformanceTest[] = [
  {
    group: 'concurrency',
    name: '50 concurrent createVm calls give 50 distinct VMs',
    timeoutMs: 60_000,
    async run(ctx) {
      const inputs = await Promise.all(Array.from({ length: 50 }, () => ctx.vmInput()));
      const results = await Promise.allSettled(inputs.map((input) => ctx.createVm({}, input)));
      const failures = results.flatMap((r, i) => (r.status === 'rejected' ? [`#${i}: ${String(r.reason)}`] : []));
      expect(failures, 'every concurrent createVm succeeds').toEqual([]);
      const ids = results.map((r) => (r as PromiseFulfilledResult<{ vmId: string }>).value.vmId);
      expect(new Set(ids).size, 'each call gets its own VM').toBe(50);
    },
  },
];
