import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { SlipwayError, type AuditRecord, type AuditSink, type IaasDriver } from '@slipway/contracts';
import type { StreamEvent } from '../events/event-bus.js';
import type { Db } from '../store/open.js';

/** Task states as a user reads them in a dashboard (the store's `done`/`error` are the engine's words). */
const TASK_OUTCOME: Record<string, string> = { done: 'succeeded', error: 'failed', cancelled: 'cancelled' };

const SECONDS_BUCKETS = [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900];
const QUERY_BUCKETS = [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1];
/** Request ids of recent cloud calls, to count a repeated id (the engine's retry of one call) as a retry. */
const RECENT_REQUEST_IDS = 10_000;

/**
 * The control plane's Prometheus metrics, in their own registry (never prom-client's global one, so two
 * control planes in one process do not share counters). Counters are fed by the event bus (tasks, steps,
 * resurrections, meltdown holds), by a metering wrapper around each IaaS driver (cloud calls), by the audit
 * sink (credential operations), by the API (requests) and by the store's query log; gauges that describe
 * state (instances, heartbeat age, certificate expiry) are read from the store when scraped.
 */
export class ControlPlaneMetrics {
  readonly registry = new Registry();
  private readonly tasks = new Counter({
    name: 'slipway_tasks_total',
    help: 'Tasks that ended, by type and outcome (succeeded, failed, cancelled)',
    labelNames: ['type', 'state'],
    registers: [this.registry],
  });
  private readonly tasksStarted = new Counter({
    name: 'slipway_tasks_started_total',
    help: 'Tasks started, by type',
    labelNames: ['type'],
    registers: [this.registry],
  });
  private readonly steps = new Histogram({
    name: 'slipway_task_step_duration_seconds',
    help: 'Duration of task steps that ended, by task type, step and outcome',
    labelNames: ['step', 'state'],
    buckets: SECONDS_BUCKETS,
    registers: [this.registry],
  });
  private readonly cloudCalls = new Counter({
    name: 'slipway_cloud_calls_total',
    help: 'IaaS driver calls by target, driver, verb and outcome (ok or the error code)',
    labelNames: ['iaas', 'driver', 'verb', 'outcome'],
    registers: [this.registry],
  });
  private readonly cloudLatency = new Histogram({
    name: 'slipway_cloud_call_duration_seconds',
    help: 'IaaS driver call latency by driver and verb',
    labelNames: ['driver', 'verb'],
    buckets: SECONDS_BUCKETS,
    registers: [this.registry],
  });
  private readonly cloudRetries = new Counter({
    name: 'slipway_cloud_retries_total',
    help: 'IaaS calls repeated with the same request id (the engine retrying one call)',
    labelNames: ['driver', 'verb'],
    registers: [this.registry],
  });
  private readonly resurrections = new Counter({
    name: 'slipway_resurrections_total',
    help: 'Resurrections the engine started',
    registers: [this.registry],
  });
  private readonly meltdowns = new Counter({
    name: 'slipway_meltdown_holds_total',
    help: 'Times the meltdown guard held resurrection back on a cluster',
    registers: [this.registry],
  });
  private readonly credentialOps = new Counter({
    name: 'slipway_credential_operations_total',
    help: 'Credential store operations by operation and result',
    labelNames: ['operation', 'result'],
    registers: [this.registry],
  });
  private readonly requests = new Counter({
    name: 'slipway_api_requests_total',
    help: 'API requests by method, route pattern and status',
    labelNames: ['method', 'route', 'status'],
    registers: [this.registry],
  });
  private readonly requestLatency = new Histogram({
    name: 'slipway_api_request_duration_seconds',
    help: 'API latency by method and route pattern',
    labelNames: ['method', 'route'],
    buckets: SECONDS_BUCKETS,
    registers: [this.registry],
  });
  private readonly queryLatency = new Histogram({
    name: 'slipway_store_query_duration_seconds',
    help: 'Store query time',
    buckets: QUERY_BUCKETS,
    registers: [this.registry],
  });
  private readonly seenRequestIds = new Map<string, true>();

  /** The state gauges read the store when scraped. */
  attachStore(db: Db, clock: { now(): number }, certificateExpiry?: () => Promise<Map<string, number>>): void {
    const instances = new Gauge({
      name: 'slipway_instances',
      help: 'Instances of live clusters by cluster and state',
      labelNames: ['cluster', 'state'],
      registers: [this.registry],
      async collect() {
        this.reset();
        const rows = await db
          .selectFrom('instances')
          .innerJoin('clusters', 'clusters.uuid', 'instances.cluster_uuid')
          .select(['clusters.name as cluster', 'instances.state'])
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('clusters.status', '=', 'active')
          .where('instances.desired', '!=', 'absent')
          .groupBy(['clusters.name', 'instances.state'])
          .execute();
        for (const r of rows) this.set({ cluster: r.cluster, state: r.state }, Number(r.n));
      },
    });
    const heartbeat = new Gauge({
      name: 'slipway_heartbeat_age_seconds',
      help: "Seconds since each instance's agent last reported, per cluster and instance",
      labelNames: ['cluster', 'instance'],
      registers: [this.registry],
      async collect() {
        this.reset();
        const rows = await db
          .selectFrom('instances')
          .innerJoin('clusters', 'clusters.uuid', 'instances.cluster_uuid')
          .select(['clusters.name as cluster', 'instances.group_name', 'instances.idx', 'instances.last_heartbeat_at'])
          .where('clusters.status', '=', 'active')
          .where('instances.last_heartbeat_at', 'is not', null)
          .execute();
        const now = clock.now();
        for (const r of rows)
          this.set(
            { cluster: r.cluster, instance: `${r.group_name}/${r.idx}` },
            Math.max(0, (now - Date.parse(r.last_heartbeat_at!)) / 1000),
          );
      },
    });
    const tasksNow = new Gauge({
      name: 'slipway_tasks',
      help: 'Tasks in the store by type and state (queued, processing, done, error...)',
      labelNames: ['type', 'state'],
      registers: [this.registry],
      async collect() {
        this.reset();
        const rows = await db
          .selectFrom('tasks')
          .select(['type', 'state'])
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .groupBy(['type', 'state'])
          .execute();
        for (const r of rows) this.set({ type: r.type, state: r.state }, Number(r.n));
      },
    });
    const meltdown = new Gauge({
      name: 'slipway_meltdown_active',
      help: '1 while the meltdown guard holds resurrection back on a cluster',
      labelNames: ['cluster'],
      registers: [this.registry],
      async collect() {
        this.reset();
        const rows = await db
          .selectFrom('cluster_health')
          .innerJoin('clusters', 'clusters.uuid', 'cluster_health.cluster_uuid')
          .select('clusters.name')
          .where('cluster_health.meltdown_since', 'is not', null)
          .execute();
        for (const r of rows) this.set({ cluster: r.name }, 1);
      },
    });
    if (certificateExpiry) {
      new Gauge({
        name: 'slipway_certificate_expiry_seconds',
        help: 'Seconds until the earliest certificate of each cluster expires',
        labelNames: ['cluster'],
        registers: [this.registry],
        async collect() {
          this.reset();
          for (const [cluster, seconds] of await certificateExpiry()) this.set({ cluster }, seconds);
        },
      });
    }
    void instances;
    void heartbeat;
    void tasksNow;
    void meltdown;
  }

  /** Feeds the counters that follow events: tasks, steps, resurrections, meltdown holds. */
  onEvent(event: StreamEvent): void {
    const d = event.details ?? {};
    switch (event.kind) {
      case 'task.started':
        this.tasksStarted.inc({ type: String(d.type) });
        break;
      case 'task.finished':
        this.tasks.inc({ type: String(d.type), state: TASK_OUTCOME[String(d.state)] ?? String(d.state) });
        break;
      case 'task.step.finished':
        if (typeof d.duration_ms === 'number')
          this.steps.observe({ step: String(d.step), state: String(d.state) }, d.duration_ms / 1000);
        break;
      case 'resurrection.started':
        this.resurrections.inc();
        break;
      case 'alert.meltdown':
        this.meltdowns.inc();
        break;
      default:
        break;
    }
  }

  /** The audit sink, counting what the credential provider writes through. */
  countingAudit(sink: AuditSink): AuditSink {
    return {
      record: (entry: AuditRecord) => {
        if (entry.action.startsWith('credential.')) {
          this.credentialOps.inc({
            operation: entry.action.slice('credential.'.length),
            result: String((entry.details as { result?: string } | null)?.result ?? entry.result),
          });
        }
        sink.record(entry);
      },
    };
  }

  apiRequest(method: string, route: string, status: number, seconds: number): void {
    this.requests.inc({ method, route, status: String(status) });
    this.requestLatency.observe({ method, route }, seconds);
  }

  storeQuery(seconds: number): void {
    this.queryLatency.observe(seconds);
  }

  /**
   * The driver, each verb call counted and timed. A Proxy, so a verb added to the contract is metered
   * without a change here, and optional verbs stay absent when the driver lacks them.
   */
  meteredDriver(iaas: string, driverName: string, driver: IaasDriver): IaasDriver {
    return new Proxy(driver, {
      get: (target, prop, receiver) => {
        const value = Reflect.get(target, prop, receiver) as unknown;
        if (
          typeof value !== 'function' ||
          typeof prop !== 'string' ||
          prop === 'constructor' ||
          prop === 'hasCapability' ||
          prop === 'destroy'
        )
          return value;
        return (...args: unknown[]) => {
          const requestId = (args[1] as { requestId?: string } | undefined)?.requestId;
          if (requestId) {
            const key = `${prop}:${requestId}`;
            if (this.seenRequestIds.has(key)) this.cloudRetries.inc({ driver: driverName, verb: prop });
            else {
              this.seenRequestIds.set(key, true);
              if (this.seenRequestIds.size > RECENT_REQUEST_IDS)
                this.seenRequestIds.delete(this.seenRequestIds.keys().next().value!);
            }
          }
          const started = performance.now();
          const done = (outcome: string) => {
            this.cloudCalls.inc({ iaas, driver: driverName, verb: prop, outcome });
            this.cloudLatency.observe({ driver: driverName, verb: prop }, (performance.now() - started) / 1000);
          };
          let result: unknown;
          try {
            result = (value as (...a: unknown[]) => unknown).apply(target, args);
          } catch (e) {
            done(SlipwayError.from(e).code);
            throw e;
          }
          if (result && typeof (result as Promise<unknown>).then === 'function') {
            return (result as Promise<unknown>).then(
              (r) => {
                done('ok');
                return r;
              },
              (e: unknown) => {
                done(SlipwayError.from(e).code);
                throw e;
              },
            );
          }
          return result;
        };
      },
    });
  }

  /** The text a scrape answers (Prometheus exposition format). */
  async text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
