// The retry policy moved to @slipway/contracts so the conformance kit's faults runs use the same code.
export { withRetry, DEFAULT_RETRY, type RetryPolicy } from '@slipway/contracts';

/** Runs `work` over items with at most `limit` in flight; the first failure rejects after in-flight ones settle. */
export async function forEachLimit<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failure: unknown;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (failure === undefined && next < items.length) {
      const item = items[next++];
      try {
        await work(item);
      } catch (e) {
        failure ??= e;
      }
    }
  });
  await Promise.all(lanes);
  if (failure !== undefined) throw failure;
}
