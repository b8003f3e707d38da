/**
 * A signal that fires when any of `signals` fires, with an explicit `dispose` that unhooks it: the agent
 * links its long-lived stop signal into a fresh signal per request, and AbortSignal.any would keep every one
 * of them reachable from the stop signal for the agent's lifetime.
 */
export function linkSignals(...signals: AbortSignal[]): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const listeners: Array<() => void> = [];
  for (const source of signals) {
    if (source.aborted) {
      controller.abort(source.reason);
      break;
    }
    const onAbort = (): void => controller.abort(source.reason);
    source.addEventListener('abort', onAbort, { once: true });
    listeners.push(() => source.removeEventListener('abort', onAbort));
  }
  return { signal: controller.signal, dispose: () => listeners.forEach((remove) => remove()) };
}
