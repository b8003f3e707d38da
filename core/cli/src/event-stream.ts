import type { ApiClient } from './api-client.js';
import { ApiError } from './errors.js';

/** One event of GET /v1/events, as the API sends it. */
export interface StreamedEvent {
  id: number;
  at: string;
  kind: string;
  severity: string;
  message: string;
  cluster: string | null;
  cluster_uuid: string | null;
  instance_id: string | null;
  task_id: number | null;
  details: Record<string, unknown> | null;
}

/** Why a stream stopped: the server ended it (reconnect), or the caller aborted. */
export type StreamStop = 'ended' | 'aborted';

/**
 * Reads one Server-Sent Events connection of GET /v1/events until it ends. Calls `onOpen` once the server
 * accepted it, `onEvent` per event. Resolves `ended` when the connection closes, `aborted` on the signal;
 * throws ApiError when the API refused the stream (a cluster not found, too many streams).
 */
export async function readEventStream(
  client: ApiClient,
  query: URLSearchParams,
  options: {
    lastEventId?: number;
    signal?: AbortSignal;
    onOpen?: () => void;
    onEvent: (event: StreamedEvent) => void;
  },
): Promise<StreamStop> {
  const headers: Record<string, string> =
    options.lastEventId !== undefined ? { 'last-event-id': String(options.lastEventId) } : {};
  let res;
  try {
    res = await client.openStream(`/v1/events${query.size ? `?${query}` : ''}`, headers, options.signal);
  } catch (e) {
    if (options.signal?.aborted) return 'aborted';
    throw e;
  }
  options.onOpen?.();
  let buffer = '';
  res.setEncoding('utf8');
  try {
    for await (const chunk of res) {
      buffer += chunk as string;
      let cut: number;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const data = block
          .split('\n')
          .filter((l) => l.startsWith('data:'))
          .map((l) => l.slice(5).trimStart())
          .join('\n');
        if (data) options.onEvent(JSON.parse(data) as StreamedEvent);
      }
    }
  } catch (e) {
    if (options.signal?.aborted) return 'aborted';
    if (e instanceof ApiError) throw e;
    return 'ended';
  }
  return options.signal?.aborted ? 'aborted' : 'ended';
}

/**
 * Follows the stream across reconnects: after a drop it reconnects with the last id it saw, so no event is
 * lost or repeated. Gives up (throws) after `maxFailures` connection failures in a row, or on a refusal.
 */
export async function followEvents(
  client: ApiClient,
  query: URLSearchParams,
  options: {
    signal?: AbortSignal;
    onEvent: (event: StreamedEvent) => void;
    onReconnect?: (attempt: number) => void;
    maxFailures?: number;
    retryMs?: number;
  },
): Promise<void> {
  let lastEventId: number | undefined;
  let failures = 0;
  for (;;) {
    let stop: StreamStop;
    try {
      stop = await readEventStream(client, query, {
        lastEventId,
        signal: options.signal,
        onOpen: () => {
          failures = 0;
        },
        onEvent: (event) => {
          lastEventId = event.id;
          options.onEvent(event);
        },
      });
    } catch (e) {
      if (e instanceof ApiError && e.status < 500) throw e;
      if (++failures > (options.maxFailures ?? 10)) throw e;
      stop = 'ended';
    }
    if (stop === 'aborted' || options.signal?.aborted) return;
    options.onReconnect?.(failures);
    await new Promise((r) => setTimeout(r, options.retryMs ?? 1000));
    if (options.signal?.aborted) return;
  }
}
