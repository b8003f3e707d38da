/**
 * One event as subscribers see it: the persisted row (its id orders the stream and resumes it), with its
 * `details` parsed. Every event is in the store first, so a subscriber that reconnects with the last id it
 * saw misses nothing.
 */
export interface StreamEvent {
  id: number;
  at: string;
  kind: string;
  severity: string;
  message: string;
  cluster_uuid: string | null;
  instance_id: string | null;
  task_id: number | null;
  details: Record<string, unknown> | null;
}

/**
 * Where recorded events go. The one seam between the store and the live stream: this process's event log
 * publishes here, and another replica's events can be fed in through the same call.
 */
export interface EventPublisher {
  publish(event: StreamEvent): void;
}

export type EventListener = (event: StreamEvent) => void;

/** In-process fan-out of published events to subscribers (the SSE streams, metrics). */
export class EventBus implements EventPublisher {
  private readonly listeners = new Set<EventListener>();

  publish(event: StreamEvent): void {
    for (const listener of this.listeners) {
      // One subscriber's failure must not keep the event from the others, nor fail the engine's write.
      try {
        listener(event);
      } catch {
        /* the subscriber closes itself on its own errors */
      }
    }
  }

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get subscribers(): number {
    return this.listeners.size;
  }
}
