import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert, Clock } from '@slipway/contracts';
import { AlertDispatcher, createStore, silentLogger, SystemClock, type Store } from '../src/index.js';
import { ExpiryAlerts } from '../src/certificates/expiry-alerts.js';

const DAY = 86_400_000;
const dir = mkdtempSync(join(tmpdir(), 'cert-alerts-'));
const clock: Clock = new SystemClock();
let store: Store;
const sent: Alert[] = [];

beforeAll(async () => {
  store = await createStore(join(dir, 'slipway.db'));
});
afterAll(async () => {
  await store.db.destroy();
  rmSync(dir, { recursive: true, force: true });
});

/** A control plane's alerting as a fresh start builds it: nothing remembered in memory. */
function start(): ExpiryAlerts {
  const dispatcher = new AlertDispatcher(store, clock, silentLogger, {
    sinks: [
      {
        name: 'record',
        sink: {
          send: async (a) => {
            sent.push(a);
          },
          destroy: async () => {},
        },
      },
    ],
    destroy: async () => {},
  });
  return new ExpiryAlerts(store, dispatcher, clock, [180, 30, 7]);
}

/** A scope whose first certificate expires in `days` days (a second one a year later). */
const scope = (uuid: string, days: number) => ({
  scope: uuid,
  clusterUuid: uuid,
  label: `cluster ${uuid}`,
  certificates: [
    { name: 'kube-apiserver', not_after: new Date(clock.now() + days * DAY + 60_000).toISOString() },
    { name: 'kubernetes-ca', not_after: new Date(clock.now() + (days + 365) * DAY).toISOString() },
  ],
});

describe('certificate expiry alerts', () => {
  it('alert once per threshold, survive a restart, clear after renewal and alert again next time', async () => {
    let alerts = start();
    await alerts.check(scope('c1', 200));
    expect(sent).toHaveLength(0);
    await alerts.check(scope('c1', 170));
    await alerts.check(scope('c1', 160));
    expect(sent.map((a) => [a.severity, a.title])).toEqual([
      ['info', '1 certificate(s) of cluster c1 expire within 180 days'],
    ]);
    await alerts.check(scope('c1', 25));
    expect(sent.map((a) => a.severity)).toEqual(['info', 'warning']);
    expect(sent[1].summary).toContain('the first is kube-apiserver');

    alerts = start(); // a restart: the store remembers what alerted
    await alerts.check(scope('c1', 24));
    expect(sent).toHaveLength(2);
    await alerts.check(scope('c1', 6));
    expect(sent.map((a) => a.severity)).toEqual(['info', 'warning', 'critical']);

    // Renewed: every threshold is cleared, an event says so, and the next approach alerts again.
    await alerts.check(scope('c1', 365));
    expect(await store.db.selectFrom('certificate_alerts').selectAll().where('scope', '=', 'c1').execute()).toEqual([]);
    expect((await store.events.ofCluster('c1')).map((e) => e.kind)).toContain('certificates.renewed');
    await alerts.check(scope('c1', 29));
    expect(sent.map((a) => a.severity)).toEqual(['info', 'warning', 'critical', 'warning']);
  });

  it('a jump across several thresholds alerts once, for the tightest, and says when certificates have expired', async () => {
    sent.length = 0;
    const alerts = start();
    await alerts.check(scope('c2', 5));
    expect(sent.map((a) => [a.severity, a.title])).toEqual([
      ['critical', '1 certificate(s) of cluster c2 expire within 7 days'],
    ]);
    await alerts.check(scope('c2', 100));
    await alerts.check(scope('c2', -2));
    expect(sent.map((a) => a.title)).toEqual([
      '1 certificate(s) of cluster c2 expire within 7 days',
      '1 certificate(s) of cluster c2 have expired',
    ]);
    const stored = await store.db.selectFrom('alerts').selectAll().where('cluster_uuid', '=', 'c2').execute();
    expect(stored).toHaveLength(2);
  });
});
