import { inject, injectable } from 'tsyringe';
import type { Clock, Logger } from '@slipway/contracts';
import type { SlipwayConfig } from '../config/schema.js';
import { label } from '../lifecycle/provisioner.js';
import { KUBERNETES_API_PORT } from '../lifecycle/cluster-tasks.js';
import type { PluginSet } from '../plugins/plugin-set.js';
import { forEachLimit } from '../retry.js';
import type { InstanceRow, Store } from '../store/index.js';
import { CLOCK, CONFIG, LOGGER, PLUGINS, STORE } from '../tokens.js';
import { CertificateWatch } from '../certificates/certificate-watch.js';
import { AlertDispatcher } from './alerts.js';
import { CloudSweep } from './cloud-sweep.js';
import { HealthRecords, type IncidentKind } from './health-records.js';
import { describeUnhealthy, parseProcesses, restartCounts, restartsBetween } from './process-report.js';
import { Resurrector } from './resurrector.js';
import { healthSettingsOf, type HealthSettings } from './settings.js';

/** The columns the monitor reads of each instance. */
type Observed = Pick<
  InstanceRow,
  | 'id'
  | 'cluster_uuid'
  | 'group_name'
  | 'idx'
  | 'agent_id'
  | 'vm_cid'
  | 'ip'
  | 'desired'
  | 'state'
  | 'processes'
  | 'last_heartbeat_at'
>;
const COLUMNS = [
  'id',
  'cluster_uuid',
  'group_name',
  'idx',
  'agent_id',
  'vm_cid',
  'ip',
  'desired',
  'state',
  'processes',
  'last_heartbeat_at',
] as const;
/** How often old events are looked for: at start, then hourly. */
const EVENT_PRUNE_INTERVAL_MS = 3_600_000;

/** What the monitor remembers of an instance between passes (in memory: rebuilt after a restart). */
interface Known {
  state: string;
  agentId: string;
  vmCid: string | null;
  /** When this monitor first saw the current VM incarnation. */
  sinceMs: number;
  /** A heartbeat of this incarnation has arrived (else the boot timeout applies, not the agent timeout). */
  heard: boolean;
  lastHeartbeat: string | null;
  processes: string | null;
  restarts: Map<string, number>;
  touchedMs: number;
}

/** A heartbeat older than this is not trusted to have been committed before the previous pass read. */
const SCAN_OVERLAP_MS = 2_000;

/**
 * The health monitor: one loop over every instance, every analyze interval, with two indexed scans
 * (heartbeats since the last pass; present instances gone silent) and one cloud list per target each
 * cloud check interval. It derives the states the agent cannot report (unresponsive, missing), records
 * events when states change and when agents restart processes, raises alerts, moves a cluster's API
 * endpoint off a master that went down, and hands down instances to the resurrector.
 *
 * Detection bounds (documented under `health` in docs/configuration.md, measured by the tests):
 * unresponsive within agent_timeout + analyze_interval of the last heartbeat (boot_timeout for a VM whose
 * agent never reported); missing within cloud_check_interval + analyze_interval on clouds with `inventory`,
 * else as unresponsive; failing and process restarts within analyze_interval of the heartbeat reporting them.
 */
@injectable()
export class HealthMonitor {
  readonly settings: HealthSettings;
  private readonly records: HealthRecords;
  private readonly sweep: CloudSweep;
  private readonly known = new Map<string, Known>();
  /** Instances with an open incident, by id → the incident's detection time and VM. */
  private readonly open = new Map<string, { clusterUuid: string; detectedAt: string; vmCid: string | null }>();
  private startedMs = 0;
  /** When the last pass ended: the next one is due analyze_interval later. */
  private lastPassEndMs = 0;
  /** The end of the last gap in the monitor's own ticks (a pause of the control plane): silence counts from here. */
  private resumedMs = 0;
  private since: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private pass: Promise<void> | undefined;
  private sweeping: Promise<void> | undefined;
  private lastSweepMs = 0;
  private passes = 0;
  private lastEventPruneMs = -Infinity;
  private readonly halt = new AbortController();
  private stopped = false;
  private readonly logger: Logger;

  private readonly auditRetentionMs: number;

  constructor(
    @inject(STORE) private readonly store: Store,
    @inject(PLUGINS) private readonly plugins: PluginSet,
    @inject(CLOCK) private readonly clock: Clock,
    @inject(LOGGER) logger: Logger,
    @inject(CONFIG) config: SlipwayConfig,
    @inject(AlertDispatcher) private readonly alerts: AlertDispatcher,
    @inject(Resurrector) private readonly resurrector: Resurrector,
    // Optional so the monitor runs alone (bench/health.mjs builds one without certificates).
    @inject(CertificateWatch) private readonly certificates?: CertificateWatch,
  ) {
    this.settings = healthSettingsOf(config);
    this.auditRetentionMs = (config.audit?.retention_days ?? 365) * 86_400_000;
    this.logger = logger.child({ component: 'health-monitor' });
    this.records = new HealthRecords(store.db);
    this.sweep = new CloudSweep(store, plugins, clock, this.logger);
  }

  /** Starts the loop; the first pass runs at once. */
  async start(): Promise<void> {
    this.startedMs = this.clock.now();
    if (this.settings.agentTimeoutMs < 2 * this.settings.heartbeatIntervalMs) {
      this.logger.warn(
        'health.agent_timeout_seconds is less than twice agents.heartbeat_interval_seconds: one late heartbeat will make an agent unresponsive and its VM replaced',
        {
          agentTimeoutMs: this.settings.agentTimeoutMs,
          heartbeatIntervalMs: this.settings.heartbeatIntervalMs,
        },
      );
    }
    await this.reloadOpen();
    this.schedule(0);
  }

  /** Stops the loop and waits for a pass in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.halt.abort();
    clearTimeout(this.timer);
    await this.pass?.catch(() => {});
    await this.sweeping?.catch(() => {});
    await this.certificates?.settle();
  }

  /** One pass over every instance. Public for tests and benchmarks that drive the clock themselves. */
  async analyze(): Promise<void> {
    const now = this.clock.now();
    if (!this.startedMs) this.startedMs = now;
    this.noticePause(now);
    try {
      await this.analyzeAt(now);
    } finally {
      this.lastPassEndMs = this.clock.now();
    }
  }

  /**
   * A tick that comes much later than scheduled means the control plane itself was not running (a GC pause,
   * SIGSTOP, a laptop asleep): agents' heartbeats could not arrive meanwhile, so their silence says nothing
   * about them. Silence is then counted from the end of the gap: every agent gets a fresh full timeout.
   */
  private noticePause(now: number): void {
    if (!this.lastPassEndMs) return;
    const lateMs = now - this.lastPassEndMs - this.settings.analyzeIntervalMs;
    if (lateMs <= pauseThresholdMs(this.settings)) return;
    this.resumedMs = now;
    this.logger.warn(
      'the health monitor ran late: the control plane was paused; agents get a fresh timeout before any is declared unresponsive',
      {
        lateMs,
        graceMs: this.settings.agentTimeoutMs,
      },
    );
  }

  private async analyzeAt(now: number): Promise<void> {
    const clusters = new ClusterCache(this.store);
    const since = this.since ?? iso(now - this.settings.agentTimeoutMs);
    this.since = iso(now - SCAN_OVERLAP_MS);

    const beating = await this.store.db
      .selectFrom('instances')
      .select(COLUMNS)
      .where('last_heartbeat_at', '>=', since)
      .execute();
    for (const row of beating) await this.observe(row, now, clusters);

    const cutoff = iso(now - Math.min(this.settings.agentTimeoutMs, this.settings.bootTimeoutMs));
    // Draining instances are watched too: a node that dies while draining must not hold its task forever.
    const silent = await this.store.db
      .selectFrom('instances')
      .select(COLUMNS)
      .where('desired', 'in', ['present', 'drain'])
      .where('vm_cid', 'is not', null)
      .where('state', 'not in', ['unresponsive', 'missing', 'stopped'])
      .where((eb) => eb.or([eb('last_heartbeat_at', '<', cutoff), eb('last_heartbeat_at', 'is', null)]))
      .execute();
    const overdue: Observed[] = [];
    for (const row of silent) {
      const k = this.remember(row, now);
      const reference = Math.max(
        row.last_heartbeat_at ? Date.parse(row.last_heartbeat_at) : 0,
        k.sinceMs,
        this.resumedMs,
      );
      const timeout = k.heard ? this.settings.agentTimeoutMs : this.settings.bootTimeoutMs;
      if (now - reference > timeout) overdue.push(row);
    }
    await forEachLimit(overdue, 16, (row) => this.declareUnresponsive(row, now, clusters));

    if (!this.sweeping && now - this.lastSweepMs >= this.settings.cloudCheckIntervalMs) {
      this.lastSweepMs = now;
      this.sweeping = this.sweepCloud().finally(() => {
        this.sweeping = undefined;
      });
    }
    // Certificate expiry: alerts and automatic renewal, on its own interval, in the background.
    if (!this.stopped) this.certificates?.poll();
    if (++this.passes % 100 === 0) this.prune(now);
    if (now - this.lastEventPruneMs >= EVENT_PRUNE_INTERVAL_MS) {
      this.lastEventPruneMs = now;
      await this.pruneEvents(now);
    }
    // Incidents also close elsewhere (a resurrection's last step, a repair): the store is the truth.
    await this.reloadOpen();
    const down = new Set([...this.open.values()].map((o) => o.clusterUuid));
    if (down.size) await this.resurrector.consider([...down]);
  }

  private async reloadOpen(): Promise<void> {
    const rows = await this.store.db
      .selectFrom('health_incidents')
      .select(['instance_id', 'cluster_uuid', 'detected_at', 'vm_cid'])
      .where('resolved_at', 'is', null)
      .execute();
    this.open.clear();
    for (const r of rows)
      this.open.set(r.instance_id, { clusterUuid: r.cluster_uuid, detectedAt: r.detected_at, vmCid: r.vm_cid });
  }

  /** Waits for a cloud check in progress (tests). */
  async settle(): Promise<void> {
    await this.sweeping;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.pass = this.analyze()
        .catch((e) => this.logger.error('health pass failed', { error: (e as Error).message }))
        .finally(() => this.schedule(this.settings.analyzeIntervalMs));
    }, delayMs);
    this.timer.unref?.();
  }

  private remember(row: Observed, now: number): Known {
    let k = this.known.get(row.id);
    if (!k) {
      const processes = parseProcesses(row.processes);
      // First sight (or after a restart of the control plane): an agent that reported before is trusted to
      // report again within the agent timeout from now, the grace BOSH's poll_grace_period gives.
      k = {
        state: row.state,
        agentId: row.agent_id,
        vmCid: row.vm_cid,
        sinceMs: Math.max(this.startedMs, now - this.settings.agentTimeoutMs),
        heard: row.last_heartbeat_at !== null,
        lastHeartbeat: row.last_heartbeat_at,
        processes: row.processes,
        restarts: restartCounts(processes),
        touchedMs: now,
      };
      if (row.last_heartbeat_at === null) k.sinceMs = now;
      this.known.set(row.id, k);
      return k;
    }
    k.touchedMs = now;
    if (row.agent_id !== k.agentId || row.vm_cid !== k.vmCid) {
      // A new VM incarnation: its agent gets the boot timeout until it reports.
      k.agentId = row.agent_id;
      k.vmCid = row.vm_cid;
      k.sinceMs = now;
      k.heard = false;
      k.restarts = new Map();
      k.processes = null;
    }
    if (
      !k.heard &&
      row.last_heartbeat_at &&
      (Date.parse(row.last_heartbeat_at) > k.sinceMs || row.state === 'running' || row.state === 'failing')
    )
      k.heard = true;
    return k;
  }

  private async observe(row: Observed, now: number, clusters: ClusterCache): Promise<void> {
    const fresh = !this.known.has(row.id);
    const k = this.remember(row, now);
    const before = k.state;
    k.lastHeartbeat = row.last_heartbeat_at;
    if (row.processes !== k.processes) {
      const counts = restartCounts(parseProcesses(row.processes));
      for (const r of restartsBetween(k.restarts, counts)) {
        await this.event(
          row,
          'process.restarted',
          'info',
          `${label(row)}: ${r.process} was restarted by its agent (restarts ${r.from} → ${r.to})`,
        );
      }
      k.restarts = counts;
      k.processes = row.processes;
    }
    k.state = row.state;
    if (row.state === 'failing' && (before !== 'failing' || fresh)) {
      const cluster = await clusters.get(row.cluster_uuid);
      const why = describeUnhealthy(parseProcesses(row.processes));
      await this.event(row, 'instance.failing', 'warning', `${label(row)} (VM ${row.vm_cid}) is failing: ${why}`);
      await this.alerts.raise({
        severity: 'warning',
        kind: 'instance.failing',
        key: `failing:${row.id}`,
        clusterUuid: row.cluster_uuid,
        instanceId: row.id,
        title: `${label(row)} of cluster ${cluster?.name ?? row.cluster_uuid} is failing`,
        summary: `${why}; its agent restarts processes up to its limit, then reports them failing. See: slipway cluster ${cluster?.name ?? ''} --details`,
      });
    } else if (before === 'failing' && row.state === 'running') {
      this.alerts.clear(`failing:${row.id}`);
      await this.event(row, 'instance.running', 'info', `${label(row)} is running again: every process is up`);
    }
    const open = this.open.get(row.id);
    if (
      open &&
      (row.state === 'running' || row.state === 'failing') &&
      row.last_heartbeat_at &&
      row.last_heartbeat_at > open.detectedAt
    ) {
      const resolution = row.vm_cid !== open.vmCid ? 'resurrected' : 'recovered';
      this.open.delete(row.id);
      const incident = await this.records.resolve(row.id, resolution, iso(now));
      this.alerts.clear(`down:${row.id}`);
      if (incident) {
        const downMs = now - Date.parse(incident.detected_at);
        await this.event(
          row,
          'instance.back',
          'info',
          resolution === 'resurrected'
            ? `${label(row)} is back on VM ${row.vm_cid} (${row.ip}), ${(downMs / 1000).toFixed(1)} s after it was found ${incident.kind}`
            : `${label(row)} (VM ${row.vm_cid}) answers again, ${(downMs / 1000).toFixed(1)} s after it was found ${incident.kind}`,
        );
      }
    }
  }

  private async declareUnresponsive(row: Observed, now: number, clusters: ClusterCache): Promise<void> {
    const marked = await this.store.db
      .updateTable('instances')
      .set({ state: 'unresponsive', updated_at: iso(now) })
      .where('id', '=', row.id)
      .where('vm_cid', '=', row.vm_cid!)
      .where('state', '=', row.state)
      .where((eb) =>
        row.last_heartbeat_at === null
          ? eb('last_heartbeat_at', 'is', null)
          : eb('last_heartbeat_at', '=', row.last_heartbeat_at),
      )
      .executeTakeFirst();
    if (!Number(marked.numUpdatedRows)) return; // a heartbeat or a task got there first
    const k = this.known.get(row.id);
    if (k) k.state = 'unresponsive';
    const cluster = await clusters.get(row.cluster_uuid);
    const silentMs = now - Math.max(row.last_heartbeat_at ? Date.parse(row.last_heartbeat_at) : 0, k?.sinceMs ?? 0);
    await this.openIncident(row, 'unresponsive', now);
    await this.event(
      row,
      'instance.unresponsive',
      'warning',
      `${label(row)} (VM ${row.vm_cid}, ${row.ip}) is unresponsive: no heartbeat for ${(silentMs / 1000).toFixed(1)} s (${row.last_heartbeat_at ? 'agent timeout' : 'boot timeout'} ${(k?.heard ? this.settings.agentTimeoutMs : this.settings.bootTimeoutMs) / 1000} s)`,
    );
    if (cluster) {
      const exists = await this.sweep.hasVm(cluster.iaas, row.vm_cid!, this.halt.signal);
      if (exists === false) {
        await this.markMissing(
          { ...row, state: 'unresponsive' },
          now,
          'its agent went silent and the cloud no longer has its VM',
          clusters,
        );
        return;
      }
      await this.alerts.raise({
        severity: 'warning',
        kind: 'instance.unresponsive',
        key: `down:${row.id}`,
        clusterUuid: row.cluster_uuid,
        instanceId: row.id,
        title: `${label(row)} of cluster ${cluster.name} is unresponsive`,
        summary: `VM ${row.vm_cid} (${row.ip}) exists but its agent has not reported for ${(silentMs / 1000).toFixed(1)} s; the resurrector replaces it unless resurrection is off or the meltdown guard holds`,
      });
      if (row.group_name === 'master') await this.moveApiEndpoint(row, cluster);
    }
  }

  private async sweepCloud(): Promise<void> {
    let vanished;
    try {
      vanished = await this.sweep.vanished(this.halt.signal);
    } catch (e) {
      if (!this.stopped) this.logger.warn('cloud check failed', { error: (e as Error).message });
      return;
    }
    if (this.stopped) return;
    const clusters = new ClusterCache(this.store);
    const affected = new Set<string>();
    for (const v of vanished) {
      const row = await this.store.db
        .selectFrom('instances')
        .select(COLUMNS)
        .where('id', '=', v.instanceId)
        .executeTakeFirst();
      if (
        !row ||
        row.vm_cid !== v.vmCid ||
        row.desired === 'absent' ||
        row.state === 'stopped' ||
        row.state === 'missing'
      )
        continue;
      await this.markMissing(row, this.clock.now(), 'the cloud check did not find its VM', clusters);
      affected.add(row.cluster_uuid);
    }
    // Resurrect now rather than at the next pass: the sweep ran between passes.
    if (affected.size && !this.stopped) await this.resurrector.consider([...affected]);
  }

  private async markMissing(row: Observed, now: number, why: string, clusters: ClusterCache): Promise<void> {
    const marked = await this.store.db
      .updateTable('instances')
      .set({ state: 'missing', updated_at: iso(now) })
      .where('id', '=', row.id)
      .where('vm_cid', '=', row.vm_cid!)
      .where('state', 'not in', ['stopped', 'missing'])
      .executeTakeFirst();
    if (!Number(marked.numUpdatedRows)) return;
    const k = this.known.get(row.id);
    if (k) k.state = 'missing';
    await this.openIncident(row, 'missing', now);
    const cluster = await clusters.get(row.cluster_uuid);
    await this.event(
      row,
      'instance.missing',
      'warning',
      `${label(row)}: VM ${row.vm_cid} (${row.ip}) is missing: ${why}`,
    );
    await this.alerts.raise({
      severity: 'warning',
      kind: 'instance.missing',
      key: `down:${row.id}`,
      clusterUuid: row.cluster_uuid,
      instanceId: row.id,
      title: `${label(row)} of cluster ${cluster?.name ?? row.cluster_uuid} is missing`,
      summary: `VM ${row.vm_cid} (${row.ip}) is gone: ${why}; the resurrector recreates it with its persistent disk unless resurrection is off or the meltdown guard holds`,
    });
    if (row.group_name === 'master' && cluster) await this.moveApiEndpoint(row, cluster);
  }

  private async openIncident(row: Observed, kind: IncidentKind, now: number): Promise<void> {
    const { incident, opened } = await this.records.openIncident({
      clusterUuid: row.cluster_uuid,
      instanceId: row.id,
      kind,
      vmCid: row.vm_cid,
      at: iso(now),
    });
    if (!opened && incident.kind !== kind && kind === 'missing') await this.records.escalate(incident.id, kind);
    this.open.set(row.id, { clusterUuid: row.cluster_uuid, detectedAt: incident.detected_at, vmCid: incident.vm_cid });
  }

  /** A master went down: point the API endpoint at a master that runs, so clients keep a working API. */
  private async moveApiEndpoint(row: Observed, cluster: CachedCluster): Promise<void> {
    // Behind a load balancer nothing moves: its health check has already taken the master out, and the
    // resurrection's api-endpoint step (a persisted task step) puts the new VM in the pool.
    if (this.plugins.networkCapabilities.includes('lb')) return;
    if (!cluster.api_address || cluster.api_address !== row.ip) return;
    const masters = (await this.store.instances.ofCluster(row.cluster_uuid)).filter(
      (i) => i.group_name === 'master' && i.id !== row.id && i.state === 'running' && i.ip,
    );
    if (!masters.length) return;
    try {
      const { address } = await this.plugins.network.ensureApiEndpoint(
        { clusterId: row.cluster_uuid, port: KUBERNETES_API_PORT, masters: masters.map((m) => m.ip!) },
        { signal: this.halt.signal },
      );
      await this.store.clusters.update(row.cluster_uuid, { api_address: address, updated_at: iso(this.clock.now()) });
      cluster.api_address = address;
      await this.event(
        row,
        'endpoint.moved',
        'warning',
        `API endpoint of ${cluster.name} moved from ${row.ip} (${label(row)}, down) to ${address}`,
      );
    } catch (e) {
      this.logger.warn('could not move the API endpoint off a down master', {
        cluster: cluster.name,
        error: (e as Error).message,
      });
    }
  }

  private async event(
    row: Pick<Observed, 'cluster_uuid' | 'id'>,
    kind: string,
    severity: 'info' | 'warning' | 'critical',
    message: string,
  ): Promise<void> {
    await this.store.events.record({
      at: iso(this.clock.now()),
      cluster_uuid: row.cluster_uuid,
      instance_id: row.id,
      kind,
      severity,
      message,
    });
  }

  /** Deletes events past health.event_retention_days; a failure is logged and tried again next time. */
  private async pruneEvents(now: number): Promise<void> {
    try {
      const deleted = await this.store.events.pruneBefore(iso(now - this.settings.eventRetentionMs));
      if (deleted)
        this.logger.info('old events deleted', { deleted, retentionDays: this.settings.eventRetentionMs / 86_400_000 });
    } catch (e) {
      this.logger.warn('could not delete old events', { error: (e as Error).message });
    }
    // The audit trail is pruned on the same schedule, by its own retention (audit.retention_days).
    try {
      const deleted = await this.store.audit.pruneBefore(iso(now - this.auditRetentionMs));
      if (deleted)
        this.logger.info('old audit entries deleted', { deleted, retentionDays: this.auditRetentionMs / 86_400_000 });
    } catch (e) {
      this.logger.warn('could not delete old audit entries', { error: (e as Error).message });
    }
  }

  /** Forgets instances not seen for a long while (deleted ones). */
  private prune(now: number): void {
    const horizon = Math.max(
      10 * this.settings.agentTimeoutMs,
      10 * this.settings.analyzeIntervalMs,
      this.settings.bootTimeoutMs,
    );
    for (const [id, k] of this.known) if (now - k.touchedMs > horizon) this.known.delete(id);
  }
}

interface CachedCluster {
  uuid: string;
  name: string;
  iaas: string;
  api_address: string | null;
}

/** Cluster rows read once per pass, only for clusters something happened in. */
class ClusterCache {
  private readonly rows = new Map<string, Promise<CachedCluster | undefined>>();
  constructor(private readonly store: Store) {}

  get(uuid: string): Promise<CachedCluster | undefined> {
    let row = this.rows.get(uuid);
    if (!row) {
      row = this.store.db
        .selectFrom('clusters')
        .select(['uuid', 'name', 'iaas', 'api_address'])
        .where('uuid', '=', uuid)
        .executeTakeFirst();
      this.rows.set(uuid, row);
    }
    return row;
  }
}

/**
 * How late a tick may be before it counts as a pause of the control plane: a second (event-loop lag on a busy
 * machine is not a pause), or one analyze interval when that is longer, but never half an agent timeout (a
 * pause that long already eats into the silence an agent is allowed).
 */
export function pauseThresholdMs(settings: Pick<HealthSettings, 'analyzeIntervalMs' | 'agentTimeoutMs'>): number {
  return Math.min(Math.max(1_000, settings.analyzeIntervalMs), settings.agentTimeoutMs / 2);
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
