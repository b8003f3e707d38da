import { randomUUID } from 'node:crypto';
import { inject, injectable } from 'tsyringe';
import type { Alert, AlertSeverity, Clock, Logger } from '@slipway/contracts';
import { isoNow } from '../clock.js';
import type { Store } from '../store/index.js';
import { CLOCK, LOGGER, STORE } from '../tokens.js';
import { ALERT_SINKS, type AlertSinks } from './alert-sinks.js';
import { HealthRecords } from './health-records.js';

export interface RaiseAlert {
  severity: AlertSeverity;
  /** Machine-readable kind (`instance.missing`, `meltdown`, `resurrection.failed`). */
  kind: string;
  title: string;
  summary: string;
  clusterUuid?: string;
  instanceId?: string;
  /** Alerts with the same key are raised once until `clear(key)`: a VM down for an hour is one alert. */
  key?: string;
}

/**
 * Raises alerts: stores each (GET /v1/alerts), records it as an event of its cluster (`slipway cluster NAME
 * --details`) and hands it to every sink. A sink that fails is logged and does not stop the others.
 */
@injectable()
export class AlertDispatcher {
  private readonly active = new Set<string>();
  private readonly records: HealthRecords;

  constructor(
    @inject(STORE) private readonly store: Store,
    @inject(CLOCK) private readonly clock: Clock,
    @inject(LOGGER) private readonly logger: Logger,
    @inject(ALERT_SINKS) private readonly sinks: AlertSinks,
  ) {
    this.records = new HealthRecords(store.db);
  }

  /** Returns the alert, or undefined when one with the same key is still active. */
  async raise(input: RaiseAlert): Promise<Alert | undefined> {
    if (input.key) {
      if (this.active.has(input.key)) return undefined;
      this.active.add(input.key);
    }
    const at = isoNow(this.clock);
    const alert: Alert = {
      id: randomUUID(),
      severity: input.severity,
      title: input.title,
      summary: input.summary,
      clusterId: input.clusterUuid,
      instanceId: input.instanceId,
      createdAt: at,
    };
    await this.records.insertAlert({
      id: alert.id,
      at,
      severity: alert.severity,
      kind: input.kind,
      title: alert.title,
      summary: alert.summary,
      cluster_uuid: input.clusterUuid ?? null,
      instance_id: input.instanceId ?? null,
    });
    if (input.clusterUuid) {
      await this.store.events.record({
        at,
        cluster_uuid: input.clusterUuid,
        instance_id: input.instanceId ?? null,
        kind: `alert.${input.kind}`,
        severity: alert.severity,
        message: `${alert.title}: ${alert.summary}`,
      });
    }
    await Promise.all(
      this.sinks.sinks.map(async ({ name, sink }) => {
        try {
          await sink.send(alert);
        } catch (e) {
          this.logger.error('alert sink failed', { sink: name, alert: alert.id, error: (e as Error).message });
        }
      }),
    );
    return alert;
  }

  /** The condition behind `key` is over: the next raise with that key alerts again. */
  clear(key: string): void {
    this.active.delete(key);
  }
}
