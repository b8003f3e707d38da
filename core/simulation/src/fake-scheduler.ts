/**
 * Timers a fake's asynchronous transitions use (an instance that boots, an operation that finishes): all
 * cleared on stop, so nothing fires after the fake is gone and no test leaks a timer.
 */
export class FakeScheduler {
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;

  get isStopped(): boolean {
    return this.stopped;
  }

  later(ms: number, action: () => void | Promise<void>): void {
    if (this.stopped) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.stopped)
        void Promise.resolve()
          .then(action)
          .catch(() => undefined);
    }, ms);
    this.timers.add(timer);
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}
