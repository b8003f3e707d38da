import { request as httpsRequest } from 'node:https';
import type { TestControlPlane } from './harness.js';

export interface SseEvent {
  id: number;
  kind: string;
  cluster: string | null;
  task_id: number | null;
  message: string;
  details: Record<string, any> | null;
}

/** A Server-Sent Events subscriber over real HTTPS: parses frames, counts comment lines. */
export interface SseSubscriber {
  status: Promise<number>;
  events: SseEvent[];
  comments: string[];
  /** Resolves with the first event (from the start of the stream) that matches. */
  waitFor(match: (e: SseEvent) => boolean, timeoutMs?: number): Promise<SseEvent>;
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
  close(): void;
}

export function subscribe(t: TestControlPlane, token: string, query = '', lastEventId?: number): SseSubscriber {
  const url = new URL(t.cp.url);
  const events: SseEvent[] = [];
  const comments: string[] = [];
  const waiters: Array<() => void> = [];
  let statusOk!: (n: number) => void;
  let endOk!: () => void;
  const status = new Promise<number>((ok) => {
    statusOk = ok;
  });
  const ended = new Promise<void>((ok) => {
    endOk = ok;
  });
  const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'text/event-stream' };
  if (lastEventId !== undefined) headers['last-event-id'] = String(lastEventId);
  const req = httpsRequest(
    { host: url.hostname, port: url.port, path: `/v1/events${query}`, method: 'GET', headers, ca: t.ca, agent: false },
    (res) => {
      statusOk(res.statusCode ?? 0);
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let cut: number;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) comments.push(line.slice(1).trim());
            else if (line.startsWith('data: ')) events.push(JSON.parse(line.slice(6)));
          }
        }
        for (const w of waiters.splice(0)) w();
      });
      res.on('end', endOk);
      res.on('close', endOk);
    },
  );
  req.on('error', () => endOk());
  req.end();
  return {
    status,
    events,
    comments,
    ended,
    waitFor(match, timeoutMs = 30_000) {
      return new Promise((ok, fail) => {
        const timer = setTimeout(
          () =>
            fail(
              new Error(
                `no matching event within ${timeoutMs} ms; saw ${events.map((e) => `${e.id}:${e.kind}`).join(' ')}`,
              ),
            ),
          timeoutMs,
        );
        const check = () => {
          const found = events.find(match);
          if (found) {
            clearTimeout(timer);
            ok(found);
          } else waiters.push(check);
        };
        check();
      });
    },
    close: () => req.destroy(),
  };
}
