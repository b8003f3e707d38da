import { Hono, type Context } from 'hono';
import { SlipwayError } from '@slipway/contracts';
import type { EventQuery, EventStream, EventView } from '@slipway/engine';
import type { AppEnv } from '../context.js';

const EVENT_ID = /^(0|[1-9][0-9]{0,14})$/;
/** How long an EventSource waits before it reconnects (it then sends Last-Event-ID). */
const RECONNECT_MS = 2000;

function optionalId(raw: string | undefined, field: string): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (!EVENT_ID.test(raw))
    throw new SlipwayError(
      'InvalidInput',
      `${field} must be a non-negative integer (an event id); got "${raw.slice(0, 40)}"`,
      { field },
    );
  return Number(raw);
}

function limitOf(raw: string | undefined): number {
  if (raw === undefined) return 100;
  if (!/^[1-9][0-9]{0,3}$/.test(raw) || Number(raw) > 1000)
    throw new SlipwayError('InvalidInput', `limit must be an integer from 1 to 1000; got "${raw.slice(0, 40)}"`, {
      field: 'limit',
    });
  return Number(raw);
}

function queryOf(c: Context<AppEnv>): EventQuery {
  const kinds = (c.req.query('kind') ?? '')
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean);
  for (const k of kinds) {
    if (!/^[a-z0-9_.-]+\*?$/.test(k))
      throw new SlipwayError(
        'InvalidInput',
        `kind "${k.slice(0, 60)}" is not an event kind: letters, digits, dots, dashes, optionally ending in * for a prefix (task.*)`,
        { field: 'kind' },
      );
  }
  return { cluster: c.req.query('cluster') || undefined, kinds, task: optionalId(c.req.query('task'), 'task') };
}

function frame(event: EventView): string {
  return `id: ${event.id}\ndata: ${JSON.stringify(event)}\n\n`;
}

/**
 * GET /v1/events: recent events as JSON, or with `Accept: text/event-stream` the live stream (Server-Sent
 * Events), resumable with Last-Event-ID. A stream is long-lived: it is kept open by comment lines every
 * events.heartbeat_seconds, TCP keep-alive finds a peer that vanished, and a subscriber too slow to keep up
 * is closed (it reconnects and resumes from the store).
 */
export function eventRoutes(events: EventStream) {
  const app = new Hono<AppEnv>();
  app.get('/events', async (c) => {
    const principal = c.get('principal');
    const query = queryOf(c);
    if (!(c.req.header('accept') ?? '').includes('text/event-stream')) {
      return c.json(
        await events.list(principal, query, {
          limit: limitOf(c.req.query('limit')),
          after: optionalId(c.req.query('after'), 'after'),
        }),
      );
    }
    const lastEventId = optionalId(c.req.header('last-event-id') ?? c.req.query('after'), 'Last-Event-ID');
    const socket = c.env?.incoming?.socket;
    const encoder = new TextEncoder();
    let heartbeat: NodeJS.Timeout | undefined;
    let subscription: { close(): void } | undefined;
    let ended = false;
    const stop = () => {
      ended = true;
      clearInterval(heartbeat);
      subscription?.close();
    };
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    const body = new ReadableStream<Uint8Array>({
      start(ctl) {
        controller = ctl;
      },
      cancel() {
        stop();
      },
    });
    const write = (text: string) => {
      if (ended) return;
      try {
        controller.enqueue(encoder.encode(text));
      } catch {
        stop();
      }
    };
    write(`retry: ${RECONNECT_MS}\n: connected\n\n`);
    // Subscribing first (it may refuse: too many streams, a cluster not found) so a refusal is a plain error answer.
    subscription = await events.subscribe(
      principal,
      query,
      lastEventId,
      (event) => write(frame(event)),
      (why) => {
        if (why === 'overflow') write(': closed: this stream fell too far behind; reconnect with Last-Event-ID\n\n');
        ended = true;
        clearInterval(heartbeat);
        try {
          controller.close();
        } catch {
          /* already closed */
        }
      },
    );
    socket?.setTimeout(0);
    socket?.setKeepAlive(true, 30_000);
    socket?.setNoDelay(true);
    heartbeat = setInterval(() => write(': keep-alive\n\n'), events.settings.heartbeat_seconds * 1000);
    heartbeat.unref();
    return new Response(body, {
      status: 200,
      headers: {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-store',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      },
    });
  });
  return app;
}
