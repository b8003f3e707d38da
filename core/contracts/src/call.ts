/** Every verb takes these: the AbortSignal is honoured, requestId is the idempotency key. */
export interface CallOptions {
  signal?: AbortSignal;
  /** The same requestId twice yields the same result (the same VM, the same disk), never a second one. */
  requestId?: string;
}
