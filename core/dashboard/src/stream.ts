import type { Api } from './api.js';

export interface StreamEvent {
  id: string | null;
  event: string;
  data: unknown;
}

/**
 * Follows a Server-Sent Events route with the session's bearer token. EventSource cannot send an
 * Authorization header, so the stream is read with fetch; after a drop it reconnects with Last-Event-ID
 * so nothing is missed. Where the route is absent or refused, `onFallback` is called once and the caller
 * polls instead.
 */
export function follow(
  api: Api,
  path: string,
  onEvent: (event: StreamEvent) => void,
  signal: AbortSignal,
  onFallback?: () => void,
): void {
  let lastId: string | null = null;
  let fellBack = false;
  const connect = async (): Promise<void> => {
    while (!signal.aborted) {
      try {
        const headers: Record<string, string> = {
          authorization: `Bearer ${api.session.token}`,
          accept: 'text/event-stream',
        };
        if (lastId) headers['last-event-id'] = lastId;
        const response = await fetch(path, { headers, signal });
        if (
          !response.ok ||
          !response.body ||
          !(response.headers.get('content-type') ?? '').includes('text/event-stream')
        ) {
          if (response.status === 401) api.onUnauthenticated();
          if (!fellBack) {
            fellBack = true;
            onFallback?.();
          }
          return;
        }
        await read(response.body, (event) => {
          if (event.id) lastId = event.id;
          onEvent(event);
        });
      } catch {
        if (signal.aborted) return;
      }
      await new Promise((resolve) => setTimeout(resolve, 1500));
    }
  };
  void connect();
}

async function read(body: ReadableStream<Uint8Array>, onEvent: (event: StreamEvent) => void): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffer.search(/\r?\n\r?\n/)) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, '');
      const event = parseBlock(block);
      if (event) onEvent(event);
    }
  }
}

/** One SSE block: `id:`, `event:` and `data:` lines; comment lines (heartbeats) start with a colon. */
export function parseBlock(block: string): StreamEvent | null {
  let id: string | null = null;
  let event = 'message';
  const data: string[] = [];
  for (const line of block.split(/\r?\n/)) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'id') id = value;
    else if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
  if (!data.length) return null;
  const text = data.join('\n');
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* plain text data stays a string */
  }
  return { id, event, data: parsed };
}

/** Runs `refresh` at most once per `ms`, trailing: a burst of events costs one API call. */
export function throttled(refresh: () => unknown, ms = 300): () => void {
  let timer: ReturnType<typeof setTimeout> | null = null;
  return () => {
    if (timer) return;
    timer = setTimeout(() => {
      timer = null;
      void refresh();
    }, ms);
  };
}
