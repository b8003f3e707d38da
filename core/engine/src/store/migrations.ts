import { sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import { identityColumn } from './dialect.js';

/**
 * Versioned migrations, in code so the compiled package carries them. Names sort in apply order.
 * Only portable types (text, integer) and kysely's schema builder: PostgreSQL takes the same list. What differs
 * between the two (identity columns, binary columns) comes from ./dialect.ts, so the DDL a SQLite home got
 * from a migration is the DDL it still gets (an existing home is never migrated differently).
 */
const migrations: Record<string, Migration> = {
  '0001_initial': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('plans')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('spec', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('users')
        .addColumn('id', 'integer', identityColumn(db))
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .addColumn('password_hash', 'text', (c) => c.notNull())
        .addColumn('roles', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('tokens')
        .addColumn('token_hash', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('clusters')
        .addColumn('uuid', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('owner', 'text', (c) => c.notNull())
        .addColumn('plan_name', 'text', (c) => c.notNull())
        .addColumn('iaas', 'text', (c) => c.notNull())
        .addColumn('external_hostname', 'text', (c) => c.notNull())
        .addColumn('k8s_version', 'text', (c) => c.notNull())
        .addColumn('stemcell', 'text', (c) => c.notNull())
        .addColumn('master_instances', 'integer', (c) => c.notNull())
        .addColumn('worker_instances', 'integer', (c) => c.notNull())
        .addColumn('api_address', 'text')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('live', 'integer')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      // A live name is unique; deleted clusters set `live` to NULL, which unique indexes ignore.
      await db.schema.createIndex('clusters_live_name').on('clusters').columns(['name', 'live']).unique().execute();
      await db.schema.createIndex('clusters_owner').on('clusters').columns(['owner', 'status']).execute();

      await db.schema
        .createTable('instances')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('cluster_uuid', 'text', (c) => c.notNull().references('clusters.uuid'))
        .addColumn('group_name', 'text', (c) => c.notNull())
        .addColumn('idx', 'integer', (c) => c.notNull())
        .addColumn('agent_id', 'text', (c) => c.notNull().unique())
        .addColumn('vm_cid', 'text')
        .addColumn('ip', 'text')
        .addColumn('zone', 'text')
        .addColumn('desired', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('last_heartbeat_at', 'text')
        .addColumn('processes', 'text')
        .addColumn('desired_generation', 'integer', (c) => c.notNull())
        .addColumn('applied_generation', 'integer', (c) => c.notNull())
        .addColumn('drained', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('instances_cluster')
        .on('instances')
        .columns(['cluster_uuid', 'group_name', 'idx'])
        .unique()
        .execute();

      await db.schema
        .createTable('disks')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('cluster_uuid', 'text', (c) => c.notNull().references('clusters.uuid'))
        .addColumn('instance_id', 'text', (c) => c.notNull())
        .addColumn('disk_cid', 'text')
        .addColumn('size_mb', 'integer', (c) => c.notNull())
        .addColumn('attached_vm_cid', 'text')
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('disks_instance').on('disks').columns(['instance_id']).execute();

      await db.schema
        .createTable('tasks')
        .addColumn('id', 'integer', identityColumn(db))
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('cluster_uuid', 'text')
        .addColumn('cluster_name', 'text')
        .addColumn('user', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('params', 'text', (c) => c.notNull())
        .addColumn('waiting_for', 'text')
        .addColumn('error', 'text')
        .addColumn('cancel_requested', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('started_at', 'text')
        .addColumn('ended_at', 'text')
        .execute();
      await db.schema.createIndex('tasks_cluster').on('tasks').columns(['cluster_uuid', 'id']).execute();
      await db.schema.createIndex('tasks_state').on('tasks').columns(['state']).execute();

      await db.schema
        .createTable('task_steps')
        .addColumn('task_id', 'integer', (c) => c.notNull().references('tasks.id').onDelete('cascade'))
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('detail', 'text')
        .addColumn('started_at', 'text')
        .addColumn('finished_at', 'text')
        .addPrimaryKeyConstraint('task_steps_pk', ['task_id', 'seq'])
        .execute();

      await db.schema
        .createTable('task_logs')
        .addColumn('id', 'integer', identityColumn(db))
        .addColumn('task_id', 'integer', (c) => c.notNull().references('tasks.id').onDelete('cascade'))
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('level', 'text', (c) => c.notNull())
        .addColumn('message', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('task_logs_task').on('task_logs').columns(['task_id', 'id']).execute();

      await db.schema
        .createTable('events')
        .addColumn('id', 'integer', identityColumn(db))
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('cluster_uuid', 'text')
        .addColumn('instance_id', 'text')
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('severity', 'text', (c) => c.notNull())
        .addColumn('message', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('events_cluster').on('events').columns(['cluster_uuid', 'id']).execute();

      await db.schema
        .createTable('stemcells')
        .addColumn('iaas', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('version', 'text', (c) => c.notNull())
        .addColumn('stemcell_cid', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('stemcells_pk', ['iaas', 'name', 'version'])
        .execute();

      await db.schema
        .createTable('settings')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .execute();
    },
  },
  '0002_keepalive': {
    async up(db: Kysely<any>) {
      // The health monitor's two scans: heartbeats since the last pass, and present instances gone silent.
      await db.schema.createIndex('instances_heartbeat').on('instances').columns(['last_heartbeat_at']).execute();

      await db.schema
        .createTable('health_incidents')
        .addColumn('id', 'integer', identityColumn(db))
        .addColumn('cluster_uuid', 'text', (c) => c.notNull())
        .addColumn('instance_id', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('vm_cid', 'text')
        .addColumn('detected_at', 'text', (c) => c.notNull())
        .addColumn('resolved_at', 'text')
        .addColumn('resolution', 'text')
        .addColumn('task_id', 'integer')
        .execute();
      await db.schema
        .createIndex('health_incidents_cluster')
        .on('health_incidents')
        .columns(['cluster_uuid', 'detected_at'])
        .execute();
      await db.schema
        .createIndex('health_incidents_open')
        .on('health_incidents')
        .columns(['resolved_at', 'cluster_uuid'])
        .execute();
      await db.schema
        .createIndex('health_incidents_instance')
        .on('health_incidents')
        .columns(['instance_id', 'resolved_at'])
        .execute();

      await db.schema
        .createTable('cluster_health')
        .addColumn('cluster_uuid', 'text', (c) => c.primaryKey())
        .addColumn('resurrection', 'text')
        .addColumn('resurrection_set_by', 'text')
        .addColumn('meltdown_since', 'text')
        .addColumn('failures', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('retry_at', 'text')
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('alerts')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('severity', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('title', 'text', (c) => c.notNull())
        .addColumn('summary', 'text', (c) => c.notNull())
        .addColumn('cluster_uuid', 'text')
        .addColumn('instance_id', 'text')
        .execute();
      await db.schema.createIndex('alerts_at').on('alerts').columns(['at']).execute();
      await db.schema.createIndex('alerts_cluster').on('alerts').columns(['cluster_uuid', 'at']).execute();

      await db.schema
        .createTable('instance_specs')
        .addColumn('instance_id', 'text', (c) => c.primaryKey())
        .addColumn('cluster_uuid', 'text', (c) => c.notNull())
        .addColumn('k8s_version', 'text', (c) => c.notNull())
        .addColumn('stemcell', 'text', (c) => c.notNull())
        .addColumn('vm_type', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('instance_specs_cluster').on('instance_specs').columns(['cluster_uuid']).execute();

      await db.schema
        .createTable('roll_progress')
        .addColumn('roll_key', 'text', (c) => c.notNull())
        .addColumn('instance_id', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('roll_progress_pk', ['roll_key', 'instance_id'])
        .execute();

      await db.schema
        .createTable('fleet_upgrades')
        .addColumn('id', 'integer', identityColumn(db))
        .addColumn('user', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('params', 'text', (c) => c.notNull())
        .addColumn('cancel_requested', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('error', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('started_at', 'text')
        .addColumn('ended_at', 'text')
        .execute();
      await db.schema.createIndex('fleet_upgrades_state').on('fleet_upgrades').columns(['state']).execute();

      await db.schema
        .createTable('fleet_upgrade_clusters')
        .addColumn('fleet_id', 'integer', (c) => c.notNull().references('fleet_upgrades.id').onDelete('cascade'))
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('cluster_uuid', 'text', (c) => c.notNull())
        .addColumn('cluster_name', 'text', (c) => c.notNull())
        .addColumn('is_canary', 'integer', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('task_id', 'integer')
        .addColumn('detail', 'text')
        .addColumn('started_at', 'text')
        .addColumn('ended_at', 'text')
        .addPrimaryKeyConstraint('fleet_upgrade_clusters_pk', ['fleet_id', 'seq'])
        .execute();
    },
  },
  '0003_mounted_disk_event_age': {
    async up(db: Kysely<any>) {
      // What the agent reports it has mounted, beside what the store attached: the two differ while a VM boots.
      await db.schema.alterTable('instances').addColumn('mounted_disk_cid', 'text').execute();
      // Old events are deleted by age (health.event_retention_days).
      await db.schema.createIndex('events_at').on('events').columns(['at']).execute();
    },
  },
  '0004_agent_bootstrap': {
    async up(db: Kysely<any>) {
      // One-time tokens a new VM trades for its client certificate; only their SHA-256 is kept. Several may
      // be outstanding for one agent id (a create step re-run after a crash issues another, and the cloud's
      // idempotent createVm may return the VM made with the first); the first one used burns the rest.
      await db.schema
        .createTable('agent_bootstrap_tokens')
        .addColumn('token_hash', 'text', (c) => c.primaryKey())
        .addColumn('agent_id', 'text', (c) => c.notNull())
        .addColumn('instance_id', 'text', (c) => c.notNull())
        .addColumn('cluster_uuid', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('used_at', 'text')
        .addColumn('issued_serial', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('agent_bootstrap_tokens_agent')
        .on('agent_bootstrap_tokens')
        .columns(['agent_id'])
        .execute();

      // Every client certificate the control plane signed for an agent, by serial: the agent channel accepts
      // only an `active` one whose agent id is still its instance's (a recreated VM's certificates are revoked).
      await db.schema
        .createTable('agent_certificates')
        .addColumn('serial', 'text', (c) => c.primaryKey())
        .addColumn('agent_id', 'text', (c) => c.notNull())
        .addColumn('instance_id', 'text', (c) => c.notNull())
        .addColumn('cluster_uuid', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('origin', 'text', (c) => c.notNull())
        .addColumn('not_before', 'text', (c) => c.notNull())
        .addColumn('not_after', 'text', (c) => c.notNull())
        .addColumn('issued_at', 'text', (c) => c.notNull())
        .addColumn('renewed_from', 'text')
        .addColumn('first_used_at', 'text')
        .addColumn('ended_at', 'text')
        .addColumn('reason', 'text')
        .addColumn('certificate', 'text')
        .execute();
      await db.schema
        .createIndex('agent_certificates_agent')
        .on('agent_certificates')
        .columns(['agent_id', 'state'])
        .execute();
    },
  },
  '0010_cluster_registry': {
    async up(db: Kysely<any>) {
      // A cluster's project and robots in the image registry; secrets stay in the credential store.
      await db.schema
        .createTable('cluster_registry')
        .addColumn('cluster_uuid', 'text', (c) => c.primaryKey())
        .addColumn('project', 'text', (c) => c.notNull())
        .addColumn('endpoint', 'text', (c) => c.notNull())
        .addColumn('ca_pem', 'text')
        .addColumn('pull_robot', 'text')
        .addColumn('push_robot', 'text')
        .addColumn('secrets_rotated_at', 'text')
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('cluster_registry_project').on('cluster_registry').columns(['project']).execute();
    },
  },
  '0005_tenancy': {
    async up(db: Kysely<any>) {
      // Clusters are owned by a user's immutable id, not its name: a user created later with a deleted user's
      // name must not inherit anything. A cluster older than the user now holding its owner's name belonged to
      // an earlier user of that name: it keeps no owner (admins still see and manage it).
      await db.schema.alterTable('clusters').addColumn('owner_id', 'integer').execute();
      await db
        .updateTable('clusters')
        .set((eb) => ({
          owner_id: eb
            .selectFrom('users')
            .select('users.id')
            .whereRef('users.name', '=', 'clusters.owner')
            .whereRef('users.created_at', '<=', 'clusters.created_at'),
        }))
        .execute();
      // Names are unique per owner, so a create tells nobody whether another tenant holds the name.
      await db.schema.dropIndex('clusters_live_name').execute();
      await db.schema
        .createIndex('clusters_owner_live_name')
        .on('clusters')
        .columns(['owner_id', 'name', 'live'])
        .unique()
        .execute();
      await db.schema.createIndex('clusters_live_name_any').on('clusters').columns(['name', 'status']).execute();
    },
  },
  '0009_network_profiles': {
    async up(db: Kysely<any>) {
      // TKGI's network profiles: named by an admin, chosen per cluster; parameters kept as the validated JSON.
      await db.schema
        .createTable('network_profiles')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('description', 'text')
        .addColumn('parameters', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.alterTable('clusters').addColumn('network_profile', 'text').execute();
      await db.schema.createIndex('clusters_network_profile').on('clusters').columns(['network_profile']).execute();
    },
  },
  '0007_certificate_alerts': {
    async up(db: Kysely<any>) {
      // Which certificate expiry thresholds have alerted, so a restart does not alert again.
      await db.schema
        .createTable('certificate_alerts')
        .addColumn('scope', 'text', (c) => c.notNull())
        .addColumn('threshold_days', 'integer', (c) => c.notNull())
        .addColumn('not_after', 'text', (c) => c.notNull())
        .addColumn('raised_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('certificate_alerts_pk', ['scope', 'threshold_days'])
        .execute();
    },
  },
  '0006_login_hardening': {
    async up(db: Kysely<any>) {
      // Expired tokens are pruned at start and periodically by their expiry.
      await db.schema.createIndex('tokens_expires_at').ifNotExists().on('tokens').columns(['expires_at']).execute();
    },
  },
  '0012_pod_cidrs': {
    async up(db: Kysely<any>) {
      // Each node's pod CIDR is allocated by the control plane and kept per instance (kube-controller-manager
      // allocates none): one source for the kubelet, the CNI range and the host routes of the other nodes.
      await db.schema.alterTable('instances').addColumn('pod_cidr', 'text').execute();
      // Existing nodes keep the range they were rendered with (a worker's /24 by its index); masters, which had
      // none, take the lowest free ones. Computed here rather than in SQL so both dialects run the same thing.
      const rows = (await db
        .selectFrom('instances')
        .select(['id', 'cluster_uuid', 'group_name', 'idx'])
        .orderBy('cluster_uuid')
        .orderBy('group_name', 'desc')
        .orderBy('idx')
        .execute()) as Array<{ id: string; cluster_uuid: string; group_name: string; idx: number }>;
      const taken = new Map<string, Set<number>>();
      const byCluster = (uuid: string) => taken.get(uuid) ?? taken.set(uuid, new Set()).get(uuid)!;
      for (const row of rows)
        if (row.group_name === 'worker' && row.idx < 256) byCluster(row.cluster_uuid).add(row.idx);
      for (const row of rows) {
        const used = byCluster(row.cluster_uuid);
        let index = row.idx;
        if (row.group_name !== 'worker' || row.idx >= 256) {
          index = 0;
          while (used.has(index)) index++;
          if (index >= 256) continue;
          used.add(index);
        }
        await db
          .updateTable('instances')
          .set({ pod_cidr: `10.200.${index}.0/24` })
          .where('id', '=', row.id)
          .execute();
      }
      await db.schema
        .createIndex('instances_pod_cidr')
        .on('instances')
        .columns(['cluster_uuid', 'pod_cidr'])
        .unique()
        .execute();
    },
  },
  '0014_disk_growth': {
    async up(db: Kysely<any>) {
      // A disk grown by a new disk and a copy: the old disk's cloud id while the copy is pending, so a
      // resumed roll attaches the same old disk again and deletes it only after the new VM runs.
      await db.schema.alterTable('disks').addColumn('grow_from_cid', 'text').execute();
    },
  },
  '0015_portable_store': {
    async up(db: Kysely<any>) {
      // The task states of 0015's day, spelled out: a later change to the runner's states must not change
      // what this migration did.
      const ACTIVE_TASK_STATES = ['queued', 'processing', 'cancelling'];
      // One active mutating task per cluster, decided by the database (two replicas, or two requests, racing
      // to submit cannot both win). A home where that ever failed keeps its oldest active task per cluster.
      await db
        .updateTable('tasks')
        .set({
          state: 'failed',
          error: 'superseded: another task of this cluster was already running',
          ended_at: new Date().toISOString(),
        })
        .where('state', 'in', ACTIVE_TASK_STATES)
        .where('cluster_uuid', 'is not', null)
        .where(
          'id',
          'not in',
          db
            .selectFrom('tasks as t')
            .select((e) => e.fn.min('t.id').as('id'))
            .where('t.state', 'in', ACTIVE_TASK_STATES)
            .where('t.cluster_uuid', 'is not', null)
            .groupBy('t.cluster_uuid'),
        )
        .execute();
      await db.schema
        .createIndex('tasks_one_active_per_cluster')
        .on('tasks')
        .column('cluster_uuid')
        .unique()
        .where(sql.ref('state'), 'in', ACTIVE_TASK_STATES)
        .execute();
    },
  },
  '0016_task_leases': {
    async up(db: Kysely<any>) {
      // Replicas on one database share the work: a task is claimed under a lease its owner renews, and a
      // lapsed lease (owner dead) lets another replica resume it from its persisted steps.
      await db.schema.alterTable('tasks').addColumn('owner', 'text').execute();
      await db.schema.alterTable('tasks').addColumn('lease_expires_at', 'text').execute();
      await db.schema.createIndex('tasks_active_lease').on('tasks').columns(['state', 'lease_expires_at']).execute();
      // One row per singleton role; a replica takes it over by a conditional update once it has expired.
      await db.schema
        .createTable('leader')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('holder', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .execute();
    },
  },
  '0017_observability': {
    async up(db: Kysely<any>) {
      // Task progress streams as events (GET /v1/events), so an event may name its task and carry a few fields.
      await db.schema.alterTable('events').addColumn('task_id', 'integer').execute();
      await db.schema.alterTable('events').addColumn('details', 'text').execute();
      await db.schema.createIndex('events_task').on('events').columns(['task_id', 'id']).execute();
      // One audit trail: API calls, logins, credential operations and the engine's own decisions.
      await db.schema
        .createTable('audit')
        .addColumn('id', 'integer', identityColumn(db))
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('actor_id', 'integer')
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('target', 'text')
        .addColumn('cluster_uuid', 'text')
        .addColumn('result', 'text', (c) => c.notNull())
        .addColumn('source', 'text')
        .addColumn('request_id', 'text')
        .addColumn('details', 'text')
        .execute();
      await db.schema.createIndex('audit_at').on('audit').columns(['at']).execute();
      await db.schema.createIndex('audit_actor').on('audit').columns(['actor', 'id']).execute();
      await db.schema.createIndex('audit_action').on('audit').columns(['action', 'id']).execute();
      await db.schema.createIndex('audit_target').on('audit').columns(['target', 'id']).execute();
    },
  },
  '0019_quotas': {
    async up(db: Kysely<any>) {
      // TKGI's per-owner quotas, keyed by user name as its API is. A null limit is no limit on that resource;
      // memory is whole MiB so the GB the API speaks is kept exactly without a real column.
      await db.schema
        .createTable('quotas')
        .addColumn('owner', 'text', (c) => c.primaryKey())
        .addColumn('clusters', 'integer')
        .addColumn('cpu', 'integer')
        .addColumn('memory_mb', 'integer')
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
    },
  },
};

migrations['0013_drain_report'] = {
  async up(db: Kysely<any>) {
    // What the agent last said about a drain (kubectl's message when it failed), so a task can report it.
    await db.schema.alterTable('instances').addColumn('drain_report', 'text').execute();
  },
};

export const migrationProvider: MigrationProvider = {
  async getMigrations() {
    return migrations;
  },
};
