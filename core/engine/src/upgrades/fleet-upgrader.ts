import { inject, injectable } from 'tsyringe';
import { SlipwayError, type Clock, type Logger } from '@slipway/contracts';
import { isoNow } from '../clock.js';
import type { ClusterRow, FleetUpgradeClusterRow, FleetUpgradeRow, Store, TaskRow } from '../store/index.js';
import { TaskRunner } from '../tasks/task-runner.js';
import { CLOCK, LOGGER, STORE } from '../tokens.js';

/** POST /v1/fleet-upgrades: which clusters, how many at once, which first. */
export interface FleetUpgradeRequest {
  /** Cluster names; or `all: true`. */
  clusters?: string[];
  all?: boolean;
  /** Clusters upgraded at once after the canaries (PKS --max-in-flight; default 1). */
  max_in_flight?: number;
  /** The first N clusters, or these names, go first, one at a time; a failed canary stops the rest. */
  canaries?: number | string[];
  kubernetes_version?: string;
  stemcell?: string;
  force_drain?: boolean;
}

export const FLEET_STATES = ['queued', 'in progress', 'done', 'failed', 'cancelled'] as const;
export type FleetState = (typeof FLEET_STATES)[number];
export const MEMBER_STATES = ['queued', 'in progress', 'succeeded', 'failed', 'skipped', 'cancelled'] as const;
export type MemberState = (typeof MEMBER_STATES)[number];

export interface FleetUpgradeView {
  id: number;
  type: 'UPGRADE';
  state: FleetState;
  user: string;
  params: FleetParams;
  clusters: Array<{
    cluster_name: string;
    is_canary: boolean;
    state: MemberState;
    task_id: number | null;
    detail: string | null;
    started_at: string | null;
    ended_at: string | null;
  }>;
  summary: Record<MemberState, number>;
  error: string | null;
  created_at: string;
  started_at: string | null;
  ended_at: string | null;
}

/** The versions a job asked for, as stored with it. */
export interface FleetParams {
  max_in_flight: number;
  kubernetes_version: string | null;
  stemcell: string | null;
  force_drain: boolean;
}

/** Starts one member's upgrade (UpgradeService.submitUpgrade with the job's wishes). */
export type FleetSubmit = (row: ClusterRow, user: string, params: FleetParams) => Promise<TaskRow>;

/**
 * Upgrades many clusters as one persisted job, as PKS's upgrade-clusters does over per-cluster upgrades:
 * canaries first, one at a time (a failed canary stops the rest, which end `skipped`), then the others
 * `max_in_flight` at a time (a failed one does not stop the others). Cancel drops the clusters not yet
 * started. A restarted control plane resumes the job where it was: running clusters' tasks resume on
 * their own and are waited for; queued ones are started.
 */
@injectable()
export class FleetUpgrader {
  private readonly running = new Map<number, Promise<void>>();
  private submit: FleetSubmit | undefined;
  private stopping = false;
  private halt = new AbortController();
  /** Resolves when stop() is called; one promise shared by every wait (no listener per wait). */
  private halted: Promise<undefined>;
  private readonly logger: Logger;

  constructor(
    @inject(STORE) private readonly store: Store,
    @inject(TaskRunner) private readonly tasks: TaskRunner,
    @inject(CLOCK) private readonly clock: Clock,
    @inject(LOGGER) logger: Logger,
  ) {
    this.logger = logger.child({ component: 'fleet-upgrader' });
    this.halted = this.haltedBy(this.halt);
  }

  private haltedBy(halt: AbortController): Promise<undefined> {
    return new Promise((resolve) => halt.signal.addEventListener('abort', () => resolve(undefined), { once: true }));
  }

  /** How members' upgrades start; set once by the composition root, before `start` or `resumeAll`. */
  use(submit: FleetSubmit): void {
    this.submit = submit;
  }

  async start(user: string, request: FleetUpgradeRequest): Promise<FleetUpgradeView> {
    const members = await this.membersOf(request);
    const maxInFlight = request.max_in_flight ?? 1;
    if (!Number.isInteger(maxInFlight) || maxInFlight < 1)
      throw new SlipwayError(
        'InvalidInput',
        `max_in_flight must be a whole number of clusters, at least 1; got ${maxInFlight}`,
        { field: 'max_in_flight' },
      );
    const canaryNames = this.canariesOf(
      request.canaries,
      members.map((m) => m.name),
    );
    const ordered = [
      ...members.filter((m) => canaryNames.has(m.name)),
      ...members.filter((m) => !canaryNames.has(m.name)),
    ];
    const now = isoNow(this.clock);
    const id = await this.store.db.transaction().execute(async (tx) => {
      const { id } = await tx
        .insertInto('fleet_upgrades')
        .values({
          user,
          state: 'queued',
          cancel_requested: 0,
          error: null,
          created_at: now,
          started_at: null,
          ended_at: null,
          params: JSON.stringify({
            max_in_flight: maxInFlight,
            kubernetes_version: request.kubernetes_version ?? null,
            stemcell: request.stemcell ?? null,
            force_drain: Boolean(request.force_drain),
          }),
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      await tx
        .insertInto('fleet_upgrade_clusters')
        .values(
          ordered.map((m, seq) => ({
            fleet_id: id,
            seq,
            cluster_uuid: m.uuid,
            cluster_name: m.name,
            is_canary: canaryNames.has(m.name) ? 1 : 0,
            state: 'queued',
            task_id: null,
            detail: null,
            started_at: null,
            ended_at: null,
          })),
        )
        .execute();
      return id;
    });
    this.launch(id);
    return this.get(id);
  }

  /**
   * After a restart, and on the leader replica periodically: continue every job that was running and start
   * queued ones (a job requested through another replica waits here for the leader). Re-arms a stopped
   * upgrader, for a replica that leads again.
   */
  async resumeAll(): Promise<number> {
    if (this.stopping) {
      await Promise.allSettled([...this.running.values()]);
      this.stopping = false;
      this.halt = new AbortController();
      this.halted = this.haltedBy(this.halt);
    }
    const rows = await this.store.db
      .selectFrom('fleet_upgrades')
      .select('id')
      .where('state', 'in', ['queued', 'in progress'])
      .execute();
    for (const r of rows) this.launch(r.id);
    return rows.length;
  }

  /**
   * Stops following members' tasks (they pause with the task runner and resume on the next start, and so
   * does this job); resolves once every job loop has left.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    this.halt.abort();
    await Promise.allSettled([...this.running.values()]);
  }

  async list(limit = 50): Promise<FleetUpgradeView[]> {
    const rows = await this.store.db
      .selectFrom('fleet_upgrades')
      .selectAll()
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
    return Promise.all(rows.map((r) => this.view(r)));
  }

  async get(id: number): Promise<FleetUpgradeView> {
    const row = await this.store.db.selectFrom('fleet_upgrades').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row)
      throw new SlipwayError('NotFound', `fleet upgrade ${id} does not exist`, {
        hint: 'List them with `slipway fleet-upgrades`.',
      });
    return this.view(row);
  }

  async cancel(id: number): Promise<FleetUpgradeView> {
    const job = await this.get(id);
    if (!['queued', 'in progress'].includes(job.state))
      throw new SlipwayError('Conflict', `fleet upgrade ${id} has already ended (${job.state})`);
    await this.store.db.updateTable('fleet_upgrades').set({ cancel_requested: 1 }).where('id', '=', id).execute();
    await this.store.db
      .updateTable('fleet_upgrade_clusters')
      .set({ state: 'cancelled', detail: 'cancelled before it started', ended_at: isoNow(this.clock) })
      .where('fleet_id', '=', id)
      .where('state', '=', 'queued')
      .execute();
    return this.get(id);
  }

  /** Resolves when a job has ended (tests, --wait inside the process). */
  async settled(id: number): Promise<FleetUpgradeView> {
    await this.running.get(id);
    return this.get(id);
  }

  private launch(id: number): void {
    if (this.running.has(id) || this.stopping) return;
    const done = this.run(id)
      .catch((e) => this.logger.error('fleet upgrade failed', { fleet: id, error: (e as Error).message }))
      .finally(() => this.running.delete(id));
    this.running.set(id, done);
  }

  private async run(id: number): Promise<void> {
    const job = await this.store.db
      .selectFrom('fleet_upgrades')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    if (job.state === 'queued')
      await this.store.db
        .updateTable('fleet_upgrades')
        .set({ state: 'in progress', started_at: isoNow(this.clock) })
        .where('id', '=', id)
        .execute();
    const params = JSON.parse(job.params) as FleetParams;
    const maxInFlight = params.max_in_flight;
    const members = await this.members(id);

    for (const canary of members.filter((m) => m.is_canary)) {
      if (this.stopping) return;
      const state = await this.runMember(id, canary, params);
      if (this.stopping) return;
      if (state === 'failed') {
        await this.store.db
          .updateTable('fleet_upgrade_clusters')
          .set({
            state: 'skipped',
            detail: `not started: canary ${canary.cluster_name} failed`,
            ended_at: isoNow(this.clock),
          })
          .where('fleet_id', '=', id)
          .where('state', '=', 'queued')
          .execute();
        return this.finish(id, `canary cluster ${canary.cluster_name} failed; the other clusters were not upgraded`);
      }
    }

    const rest = members.filter((m) => !m.is_canary);
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(maxInFlight, rest.length) }, async () => {
        while (!this.stopping && next < rest.length) await this.runMember(id, rest[next++]!, params);
      }),
    );
    if (!this.stopping) await this.finish(id, null);
  }

  /** Upgrades one member (or waits for its task if it was started before a restart); returns its end state. */
  private async runMember(fleetId: number, member: FleetUpgradeClusterRow, params: FleetParams): Promise<MemberState> {
    const fresh = await this.store.db
      .selectFrom('fleet_upgrade_clusters')
      .selectAll()
      .where('fleet_id', '=', fleetId)
      .where('seq', '=', member.seq)
      .executeTakeFirstOrThrow();
    if (['succeeded', 'failed', 'skipped', 'cancelled'].includes(fresh.state)) return fresh.state as MemberState;
    const cancelled = (
      await this.store.db
        .selectFrom('fleet_upgrades')
        .select('cancel_requested')
        .where('id', '=', fleetId)
        .executeTakeFirstOrThrow()
    ).cancel_requested;
    if (cancelled && fresh.state === 'queued')
      return this.endMember(fleetId, member.seq, 'cancelled', 'cancelled before it started');
    let taskId = fresh.task_id;
    if (fresh.state === 'queued' || taskId === null) {
      const cluster = await this.store.clusters.findByUuid(member.cluster_uuid);
      if (cluster?.status !== 'active')
        return this.endMember(fleetId, member.seq, 'skipped', 'the cluster no longer exists');
      await this.store.db
        .updateTable('fleet_upgrade_clusters')
        .set({ state: 'in progress', started_at: isoNow(this.clock) })
        .where('fleet_id', '=', fleetId)
        .where('seq', '=', member.seq)
        .execute();
      try {
        if (!this.submit) throw new SlipwayError('Internal', 'the fleet upgrader was not wired to the upgrade service');
        const task = await this.submit(cluster, `fleet-upgrade:${fleetId}`, params);
        taskId = task.id;
      } catch (e) {
        const err = SlipwayError.from(e);
        if (err.details?.up_to_date) return this.endMember(fleetId, member.seq, 'skipped', err.message);
        return this.endMember(fleetId, member.seq, 'failed', err.message);
      }
      await this.store.db
        .updateTable('fleet_upgrade_clusters')
        .set({ task_id: taskId, detail: `task ${taskId}` })
        .where('fleet_id', '=', fleetId)
        .where('seq', '=', member.seq)
        .execute();
    }
    const task = await this.waitForTask(taskId!);
    if (!task) return 'in progress'; // stopping: the task resumes with the control plane, and so does this job
    if (task.state === 'done')
      return this.endMember(fleetId, member.seq, 'succeeded', `task ${task.id}: ${task.description}`);
    const error = task.error ? (JSON.parse(task.error) as { message: string }).message : task.state;
    return this.endMember(fleetId, member.seq, 'failed', `task ${task.id} ${task.state}: ${error}`);
  }

  private async waitForTask(taskId: number): Promise<TaskRow | undefined> {
    const halted = this.halted;
    for (;;) {
      const task = await Promise.race([this.tasks.settled(taskId), halted]);
      if (!task || this.stopping) return undefined;
      if (['done', 'error', 'cancelled', 'timeout'].includes(task.state)) return task;
      // Not running in this process yet (resumed after the job): look again shortly.
      await Promise.race([this.clock.sleep(200).catch(() => {}), halted]);
    }
  }

  private async endMember(fleetId: number, seq: number, state: MemberState, detail: string): Promise<MemberState> {
    await this.store.db
      .updateTable('fleet_upgrade_clusters')
      .set({ state, detail, ended_at: isoNow(this.clock) })
      .where('fleet_id', '=', fleetId)
      .where('seq', '=', seq)
      .execute();
    return state;
  }

  private async finish(id: number, error: string | null): Promise<void> {
    const members = await this.members(id);
    const cancelled = (
      await this.store.db
        .selectFrom('fleet_upgrades')
        .select('cancel_requested')
        .where('id', '=', id)
        .executeTakeFirstOrThrow()
    ).cancel_requested;
    const failed = members.filter((m) => m.state === 'failed');
    const state: FleetState = error || failed.length ? 'failed' : cancelled ? 'cancelled' : 'done';
    await this.store.db
      .updateTable('fleet_upgrades')
      .set({
        state,
        ended_at: isoNow(this.clock),
        error:
          error ??
          (failed.length
            ? `${failed.length} cluster${failed.length > 1 ? 's' : ''} failed: ${failed.map((f) => f.cluster_name).join(', ')}`
            : null),
      })
      .where('id', '=', id)
      .execute();
  }

  private members(id: number): Promise<FleetUpgradeClusterRow[]> {
    return this.store.db
      .selectFrom('fleet_upgrade_clusters')
      .selectAll()
      .where('fleet_id', '=', id)
      .orderBy('seq')
      .execute();
  }

  private async membersOf(request: FleetUpgradeRequest): Promise<Array<{ uuid: string; name: string }>> {
    if (request.all && request.clusters?.length)
      throw new SlipwayError('InvalidInput', 'pass either clusters or all, not both', { field: 'clusters' });
    const live = await this.store.clusters.list();
    if (request.all) {
      if (!live.length) throw new SlipwayError('InvalidInput', 'there are no clusters to upgrade', { field: 'all' });
      return live.map((c) => ({ uuid: c.uuid, name: c.name }));
    }
    if (!request.clusters?.length)
      throw new SlipwayError('InvalidInput', 'name the clusters to upgrade (clusters: [a, b]) or pass all: true', {
        field: 'clusters',
      });
    // Names are unique per owner: a name two owners use is ambiguous, and the cluster is named by its uuid.
    const matches = (ref: string) => live.filter((c) => c.uuid === ref || c.name === ref);
    const unknown = request.clusters.filter((n) => matches(n).length === 0);
    if (unknown.length)
      throw new SlipwayError('NotFound', `no cluster named ${unknown.map((n) => `"${n}"`).join(', ')}`, {
        field: 'clusters',
        hint: 'List clusters with `slipway clusters`.',
      });
    const ambiguous = request.clusters.filter((n) => matches(n).length > 1);
    if (ambiguous.length) {
      throw new SlipwayError(
        'InvalidInput',
        `several clusters are named ${ambiguous
          .map(
            (n) =>
              `"${n}" (${matches(n)
                .map((c) => `${c.uuid}, owner ${c.owner}`)
                .join('; ')})`,
          )
          .join(', ')}`,
        { field: 'clusters', hint: 'Name those clusters by their uuid.' },
      );
    }
    const chosen = new Map(request.clusters.map((n) => [matches(n)[0].uuid, matches(n)[0]]));
    return [...chosen.values()].map((c) => ({ uuid: c.uuid, name: c.name }));
  }

  private canariesOf(canaries: FleetUpgradeRequest['canaries'], names: string[]): Set<string> {
    if (canaries === undefined) return new Set();
    if (typeof canaries === 'number') {
      if (!Number.isInteger(canaries) || canaries < 0)
        throw new SlipwayError(
          'InvalidInput',
          `canaries must be a whole number or a list of cluster names; got ${canaries}`,
          { field: 'canaries' },
        );
      return new Set(names.slice(0, canaries));
    }
    const unknown = canaries.filter((c) => !names.includes(c));
    if (unknown.length)
      throw new SlipwayError(
        'InvalidInput',
        `canar${unknown.length > 1 ? 'ies' : 'y'} ${unknown.join(', ')} ${unknown.length > 1 ? 'are' : 'is'} not among the clusters to upgrade`,
        { field: 'canaries' },
      );
    return new Set(canaries);
  }

  private async view(row: FleetUpgradeRow): Promise<FleetUpgradeView> {
    const members = await this.members(row.id);
    const summary = Object.fromEntries(MEMBER_STATES.map((s) => [s, 0])) as Record<MemberState, number>;
    for (const m of members) summary[m.state as MemberState]++;
    return {
      id: row.id,
      type: 'UPGRADE',
      state: row.state as FleetState,
      user: row.user,
      params: JSON.parse(row.params),
      clusters: members.map((m) => ({
        cluster_name: m.cluster_name,
        is_canary: Boolean(m.is_canary),
        state: m.state as MemberState,
        task_id: m.task_id,
        detail: m.detail,
        started_at: m.started_at,
        ended_at: m.ended_at,
      })),
      summary,
      error: row.error,
      created_at: row.created_at,
      started_at: row.started_at,
      ended_at: row.ended_at,
    };
  }
}
