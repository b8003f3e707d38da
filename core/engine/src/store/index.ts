import { AgentTrustRepository } from './agent-trust.js';
import { ClusterRepository } from './clusters.js';
import { ClusterRegistryRepository } from './cluster-registry.js';
import { EventBus } from '../events/event-bus.js';
import { AuditLog } from './audit.js';
import { EventLog } from './events.js';
import { InstanceRepository } from './instances.js';
import { dialectOf, parseStoreUrl, type StoreDialectName, type StoreLocation } from './dialect.js';
import { openStore, type Db } from './open.js';
import { SettingsRepository } from './settings.js';
import { TaskRepository } from './tasks.js';
import { UserRepository } from './users.js';

export type { Db } from './open.js';
export {
  binaryType,
  describeStore,
  dialectOf,
  identityColumn,
  isUniqueViolation,
  parseStoreUrl,
  type StoreDialectName,
  type StoreLocation,
} from './dialect.js';
export * from './schema.js';
export { ACTIVE_TASK_STATES } from './tasks.js';
export type { ClusterWithTask } from './clusters.js';
export type { NewEvent } from './events.js';
export type { AuditEntry, AuditQuery } from './audit.js';

/** The control plane's persistent state: one database, one repository per aggregate. */
export interface Store {
  db: Db;
  /** Where the state lives: a SQLite file or a PostgreSQL database. */
  location: StoreLocation;
  dialect: StoreDialectName;
  clusters: ClusterRepository;
  instances: InstanceRepository;
  tasks: TaskRepository;
  users: UserRepository;
  events: EventLog;
  /** Live fan-out of every recorded event (the event log publishes to it). */
  bus: EventBus;
  audit: AuditLog;
  settings: SettingsRepository;
  registry: ClusterRegistryRepository;
  agentTrust: AgentTrustRepository;
}

export async function createStore(
  where: string | StoreLocation,
  options: { onQuery?: (seconds: number) => void } = {},
): Promise<Store> {
  const location = typeof where === 'string' ? parseStoreUrl(where) : where;
  const db = await openStore(location, options);
  const bus = new EventBus();
  return {
    bus,
    audit: new AuditLog(db),
    db,
    location,
    dialect: dialectOf(db),
    clusters: new ClusterRepository(db),
    instances: new InstanceRepository(db),
    tasks: new TaskRepository(db),
    users: new UserRepository(db),
    events: new EventLog(db, bus),
    settings: new SettingsRepository(db),
    registry: new ClusterRegistryRepository(db),
    agentTrust: new AgentTrustRepository(db),
  };
}
