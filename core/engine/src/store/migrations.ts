import { type Kysely, type Migration, type MigrationProvider } from 'kysely';

/**
 * Versioned migrations, in code so the compiled package carries them. Names sort in apply order.
 * Only portable types (text, integer) and kysely's schema builder: PostgreSQL takes the same list.
 */
const migrations: Record<string, Migration> = {
  '0001_initial': {
    async up(db: Kysely<any>) {
      await db.schema.createTable('plans')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('spec', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();

      await db.schema.createTable('users')
        .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .addColumn('password_hash', 'text', (c) => c.notNull())
        .addColumn('roles', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();

      await db.schema.createTable('tokens')
        .addColumn('token_hash', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();

      await db.schema.createTable('clusters')
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

      await db.schema.createTable('instances')
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
      await db.schema.createIndex('instances_cluster').on('instances').columns(['cluster_uuid', 'group_name', 'idx']).unique().execute();

      await db.schema.createTable('disks')
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

      await db.schema.createTable('tasks')
        .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
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

      await db.schema.createTable('task_steps')
        .addColumn('task_id', 'integer', (c) => c.notNull().references('tasks.id').onDelete('cascade'))
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('detail', 'text')
        .addColumn('started_at', 'text')
        .addColumn('finished_at', 'text')
        .addPrimaryKeyConstraint('task_steps_pk', ['task_id', 'seq'])
        .execute();

      await db.schema.createTable('task_logs')
        .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
        .addColumn('task_id', 'integer', (c) => c.notNull().references('tasks.id').onDelete('cascade'))
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('level', 'text', (c) => c.notNull())
        .addColumn('message', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('task_logs_task').on('task_logs').columns(['task_id', 'id']).execute();

      await db.schema.createTable('events')
        .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('cluster_uuid', 'text')
        .addColumn('instance_id', 'text')
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('severity', 'text', (c) => c.notNull())
        .addColumn('message', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('events_cluster').on('events').columns(['cluster_uuid', 'id']).execute();

      await db.schema.createTable('stemcells')
        .addColumn('iaas', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('version', 'text', (c) => c.notNull())
        .addColumn('stemcell_cid', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('stemcells_pk', ['iaas', 'name', 'version'])
        .execute();

      await db.schema.createTable('settings')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .execute();
    },
  },
  '0002_keepalive': {
    async up(db: Kysely<any>) {
      // The health monitor's two scans: heartbeats since the last pass, and present instances gone silent.
      await db.schema.createIndex('instances_heartbeat').on('instances').columns(['last_heartbeat_at']).execute();

      await db.schema.createTable('health_incidents')
        .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
        .addColumn('cluster_uuid', 'text', (c) => c.notNull())
        .addColumn('instance_id', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('vm_cid', 'text')
        .addColumn('detected_at', 'text', (c) => c.notNull())
        .addColumn('resolved_at', 'text')
        .addColumn('resolution', 'text')
        .addColumn('task_id', 'integer')
        .execute();
      await db.schema.createIndex('health_incidents_cluster').on('health_incidents').columns(['cluster_uuid', 'detected_at']).execute();
      await db.schema.createIndex('health_incidents_open').on('health_incidents').columns(['resolved_at', 'cluster_uuid']).execute();
      await db.schema.createIndex('health_incidents_instance').on('health_incidents').columns(['instance_id', 'resolved_at']).execute();

      await db.schema.createTable('cluster_health')
        .addColumn('cluster_uuid', 'text', (c) => c.primaryKey())
        .addColumn('resurrection', 'text')
        .addColumn('resurrection_set_by', 'text')
        .addColumn('meltdown_since', 'text')
        .addColumn('failures', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('retry_at', 'text')
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();

      await db.schema.createTable('alerts')
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

      await db.schema.createTable('instance_specs')
        .addColumn('instance_id', 'text', (c) => c.primaryKey())
        .addColumn('cluster_uuid', 'text', (c) => c.notNull())
        .addColumn('k8s_version', 'text', (c) => c.notNull())
        .addColumn('stemcell', 'text', (c) => c.notNull())
        .addColumn('vm_type', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('instance_specs_cluster').on('instance_specs').columns(['cluster_uuid']).execute();

      await db.schema.createTable('roll_progress')
        .addColumn('roll_key', 'text', (c) => c.notNull())
        .addColumn('instance_id', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('roll_progress_pk', ['roll_key', 'instance_id'])
        .execute();

      await db.schema.createTable('fleet_upgrades')
        .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
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

      await db.schema.createTable('fleet_upgrade_clusters')
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
  '0006_login_hardening': {
    async up(db: Kysely<any>) {
      // Expired tokens are pruned at start and periodically by their expiry.
      await db.schema.createIndex('tokens_expires_at').ifNotExists().on('tokens').columns(['expires_at']).execute();
    },
  },
};

export const migrationProvider: MigrationProvider = {
  async getMigrations() {
    return migrations;
  },
};
