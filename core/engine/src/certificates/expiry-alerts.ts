import type { Clock } from '@slipway/contracts';
import { isoNow } from '../clock.js';
import type { AlertDispatcher } from '../health/alerts.js';
import type { Store } from '../store/index.js';
import { daysLeft } from './certificate-inventory.js';

/** What alerts about one scope: a cluster (its uuid) or the control plane. */
export interface ExpiryScope {
  scope: string;
  clusterUuid?: string;
  /** `cluster prod`, `the control plane`. */
  label: string;
  /** The certificates that count, soonest first: name and not-after. */
  certificates: Array<{ name: string; not_after: string }>;
}

/**
 * Certificate expiry alerts, one per scope and threshold: when a scope's earliest certificate comes within
 * a threshold (180, 30, 7 days by default) one alert names how many expire within it and the first of them.
 * A jump across several thresholds alerts once, for the tightest. What has alerted is kept in the store, so
 * a restart does not alert again; when a renewal takes the earliest expiry back past a threshold, its row
 * goes (and an event says so), and the threshold alerts again next time.
 */
export class ExpiryAlerts {
  constructor(
    private readonly store: Store,
    private readonly alerts: AlertDispatcher,
    private readonly clock: Clock,
    private readonly thresholds: number[],
  ) {}

  /** `now`: the time the scope's certificates were read at, so what is alerted matches what was decided. */
  async check(scope: ExpiryScope, now = this.clock.now()): Promise<void> {
    const first = scope.certificates[0];
    const left = first ? daysLeft(first.not_after, now) : Number.POSITIVE_INFINITY;
    const raised = await this.store.db
      .selectFrom('certificate_alerts')
      .selectAll()
      .where('scope', '=', scope.scope)
      .execute();

    const cleared = raised.filter((r) => left > r.threshold_days);
    if (cleared.length) {
      await this.store.db
        .deleteFrom('certificate_alerts')
        .where('scope', '=', scope.scope)
        .where(
          'threshold_days',
          'in',
          cleared.map((r) => r.threshold_days),
        )
        .execute();
      if (scope.clusterUuid) {
        await this.store.events.record({
          at: isoNow(this.clock),
          cluster_uuid: scope.clusterUuid,
          instance_id: null,
          kind: 'certificates.renewed',
          severity: 'info',
          message:
            `certificate expiry alerts cleared for ${scope.label}: ` +
            `the earliest certificate now expires ${first?.not_after.slice(0, 10)} (${left} days)`,
        });
      }
    }

    const crossed = this.thresholds.filter((t) => left <= t);
    if (!crossed.length) return;
    const tightest = Math.min(...crossed);
    const still = new Set(raised.filter((r) => left <= r.threshold_days).map((r) => r.threshold_days));
    if (still.has(tightest)) return;
    const within = scope.certificates.filter((c) => daysLeft(c.not_after, now) <= tightest);
    const expired = left < 0;
    await this.alerts.raise({
      severity: tightest <= 7 || expired ? 'critical' : tightest <= 30 ? 'warning' : 'info',
      kind: 'certificate.expiring',
      clusterUuid: scope.clusterUuid,
      title: expired
        ? `${within.length} certificate(s) of ${scope.label} have expired`
        : `${within.length} certificate(s) of ${scope.label} expire within ${tightest} days`,
      summary:
        `the first is ${first!.name}, not valid after ${first!.not_after} (${left} days); ` +
        'Slipway renews them before certificates.renew_before_days. ' +
        (scope.clusterUuid
          ? `See: slipway certificates ${scope.label.replace(/^cluster /, '')}`
          : "See the control plane's log"),
    });
    const at = isoNow(this.clock);
    for (const t of crossed.filter((c) => !still.has(c))) {
      await this.store.db
        .insertInto('certificate_alerts')
        .values({ scope: scope.scope, threshold_days: t, not_after: first!.not_after, raised_at: at })
        .onConflict((oc) => oc.columns(['scope', 'threshold_days']).doNothing())
        .execute();
    }
  }

  /** Forgets a deleted cluster's alerts. */
  async forget(scope: string): Promise<void> {
    await this.store.db.deleteFrom('certificate_alerts').where('scope', '=', scope).execute();
  }
}
