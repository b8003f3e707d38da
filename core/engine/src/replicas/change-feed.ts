import { EventEmitter } from 'node:events';

/**
 * Wakes what waits for a change, whichever replica made it: an agent's long poll held by one replica while
 * a task on another bumps its desired state, a task waiting for heartbeats that reach another replica.
 * Topics are `instance:ID` (value: the new desired generation) and `cluster:UUID`. A change is a hint to
 * look again at the store, never the data itself, so a lost one costs only the poll's own timeout.
 */
export interface ChangeFeed {
  /** Tells every replica, this one included, that `topic` changed. Never throws: a failure is logged. */
  publish(topic: string, value?: number): void;
  /** Calls `listener` on each change of `topic` until the returned function is called. */
  subscribe(topic: string, listener: (value: number | undefined) => void): () => void;
  close(): Promise<void>;
}

/** One process owns the store (SQLite): an emitter is every replica there is. */
export class LocalChangeFeed implements ChangeFeed {
  protected readonly emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  publish(topic: string, value?: number): void {
    this.emitter.emit(topic, value);
  }

  subscribe(topic: string, listener: (value: number | undefined) => void): () => void {
    this.emitter.on(topic, listener);
    return () => this.emitter.off(topic, listener);
  }

  async close(): Promise<void> {
    this.emitter.removeAllListeners();
  }
}
