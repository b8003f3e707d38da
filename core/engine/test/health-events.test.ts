import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, startHarness, testConfig, type Harness } from './health-harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness(
    testConfig({
      health:
        '{ agent_timeout_seconds: 1, analyze_interval_seconds: 0.2, cloud_check_interval_seconds: 0.5, event_retention_days: 7 }',
    }),
  );
}, 60_000);
afterAll(async () => h?.stop());

describe('event retention', () => {
  it('deletes cluster events older than health.event_retention_days when the monitor starts, and keeps the rest', async () => {
    const cluster = await h.createCluster('history', 'small');
    const day = 86_400_000;
    const at = (daysAgo: number) => new Date(Date.now() - daysAgo * day).toISOString();
    for (const [daysAgo, message] of [
      [40, 'from last month'],
      [8, 'from last week'],
      [6, 'from six days ago'],
    ] as const) {
      await h.store.events.record({
        at: at(daysAgo),
        cluster_uuid: cluster.uuid,
        instance_id: null,
        kind: 'test.old',
        severity: 'info',
        message,
      });
    }
    const recent = (await h.store.events.ofCluster(cluster.uuid)).filter((e) => e.kind !== 'test.old').length;
    expect(recent).toBeGreaterThan(0);

    await h.restart();
    const left = await h.waitFor(
      'the old events deleted',
      async () => {
        const events = await h.store.events.ofCluster(cluster.uuid);
        return events.some((e) => e.message === 'from last week') ? undefined : events;
      },
      10_000,
    );
    expect(left.filter((e) => e.kind === 'test.old').map((e) => e.message)).toEqual(['from six days ago']);
    expect(left.filter((e) => e.kind !== 'test.old').length).toBeGreaterThanOrEqual(recent);
    const details = await h.services.clusters.details(ADMIN, 'history');
    expect(details.events.map((e) => e.message)).toContain('from six days ago');
    expect(h.lines.some((l) => l.includes('old events deleted') && l.includes('deleted=2'))).toBe(true);
  }, 60_000);
});
