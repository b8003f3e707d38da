import { SlipwayError } from '@slipway/contracts';
import type { PolicyClient } from './client.js';
import { PLUGIN, realizationError } from './errors.js';

export type RealizedState = 'REALIZED' | 'UNREALIZED' | 'IN_PROGRESS' | 'ERROR' | 'UNKNOWN';

interface RealizedEntity {
  state?: RealizedState;
  extended_attributes?: Array<{ key: string; values?: string[] }>;
  alarms?: Array<{ message?: string; error_details?: { error_message?: string } }>;
}

/**
 * Polls `/infra/realized-state/realized-entities?intent_path=...` until every entity of the intent is
 * REALIZED (answering their extended attributes: a carved subnet's cidr, an allocation's IP) or one is in
 * ERROR, which surfaces as a typed error carrying NSX's alarm text. A realization that outlasts the bound is
 * `Timeout` (retryable: asking again re-polls the same intent).
 */
export class Realization {
  constructor(
    private readonly client: PolicyClient,
    private readonly intervalMs: number,
    private readonly timeoutMs: number,
  ) {}

  /** One look, no waiting: the extended attributes when the intent is realized, else undefined. */
  async read(intentPath: string, signal?: AbortSignal): Promise<Record<string, string[]> | undefined> {
    const answer = await this.client.request<{ results?: RealizedEntity[] }>({
      operation: 'getRealizedEntities',
      path: '/infra/realized-state/realized-entities',
      query: { intent_path: intentPath },
      signal,
    });
    const entities = answer?.results ?? [];
    if (entities.length === 0 || !entities.every((e) => e.state === 'REALIZED')) return undefined;
    const attributes: Record<string, string[]> = {};
    for (const entity of entities) for (const a of entity.extended_attributes ?? []) attributes[a.key] = a.values ?? [];
    return attributes;
  }

  async wait(intentPath: string, signal?: AbortSignal): Promise<Record<string, string[]>> {
    const deadline = Date.now() + this.timeoutMs;
    for (;;) {
      const answer = await this.client.request<{ results?: RealizedEntity[] }>({
        operation: 'getRealizedEntities',
        path: '/infra/realized-state/realized-entities',
        query: { intent_path: intentPath },
        signal,
      });
      const entities = answer?.results ?? [];
      const failed = entities.filter((e) => e.state === 'ERROR');
      if (failed.length) {
        throw realizationError(
          intentPath,
          failed
            .flatMap((e) => (e.alarms ?? []).map((a) => a.error_details?.error_message ?? a.message ?? ''))
            .filter(Boolean),
        );
      }
      if (entities.length > 0 && entities.every((e) => e.state === 'REALIZED')) {
        const attributes: Record<string, string[]> = {};
        for (const entity of entities)
          for (const a of entity.extended_attributes ?? []) attributes[a.key] = a.values ?? [];
        return attributes;
      }
      if (Date.now() + this.intervalMs > deadline) {
        throw new SlipwayError(
          'Timeout',
          `nsx realization of ${intentPath} did not finish within ${this.timeoutMs} ms`,
          {
            plugin: PLUGIN,
            details: { intentPath, state: entities.map((e) => e.state ?? 'UNKNOWN').join(',') || 'none' },
            hint: 'NSX Manager is slow to realize or an edge is down; the engine asks again. Check the object in NSX Manager if it persists.',
          },
        );
      }
      await sleep(this.intervalMs, signal);
    }
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted)
      return reject(
        new SlipwayError('Cancelled', 'nsx realization wait was aborted', { plugin: PLUGIN, cause: signal.reason }),
      );
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(
        new SlipwayError('Cancelled', 'nsx realization wait was aborted', { plugin: PLUGIN, cause: signal?.reason }),
      );
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
