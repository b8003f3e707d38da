/**
 * What an unfinished verb already got done, so the engine's retry of that verb resumes where the failed
 * attempt stopped instead of starting over: a prepare makes about a dozen Policy calls, and under throttling
 * an attempt that must get all of them through in one go may never finish. Only steps whose result cannot
 * change are kept (an accepted PATCH of the same intent, a realized address, a delete), and a verb that
 * succeeds forgets its steps: the next call of that verb, or any call after a restart, asks NSX again.
 */
export class Progress {
  private readonly steps = new Map<string, Map<string, unknown>>();

  async step<T>(verb: string, step: string, run: () => Promise<T>): Promise<T> {
    let done = this.steps.get(verb);
    if (done?.has(step)) return done.get(step) as T;
    const value = await run();
    if (!done) this.steps.set(verb, (done = new Map()));
    done.set(step, value);
    return value;
  }

  /** The verb finished (or its cluster is gone): its next call starts from NSX's state again. */
  forget(prefix: string): void {
    for (const key of [...this.steps.keys()]) if (key.startsWith(prefix)) this.steps.delete(key);
  }
}
