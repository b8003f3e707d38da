import type { CredentialProvider } from './credentials.js';
import type { IaasDriver } from './iaas.js';
import type { NetworkDriver } from './network.js';
import type { RegistryDriver } from './registry.js';
import type { AlertSink } from './health.js';

export const PLUGIN_KINDS = ['iaas', 'network', 'registry', 'credentials', 'alerts'] as const;
export type PluginKind = (typeof PLUGIN_KINDS)[number];

/**
 * The contract version of each plugin kind. A plugin declares the range it implements
 * (`contract: '^1.0.0'`); the loader refuses it unless its kind's version satisfies the range.
 * Minor versions add optional verbs (capabilities); a major version changes a required one. Kinds are
 * versioned apart so that a new network contract does not strand every cloud driver.
 */
export const CONTRACT_VERSIONS: Readonly<Record<PluginKind, string>> = Object.freeze({
  iaas: '1.1.0',
  network: '2.2.0',
  registry: '2.0.0',
  credentials: '1.2.0',
  alerts: '1.1.0',
});

/**
 * How far a plugin is proven, as its package.json says (`"slipway": { "maturity": ... }`) and `slipway plugins`
 * shows, so operators see it before they rely on it:
 * - `experimental`: its own tests only; no wire-level fake, or not yet through the whole conformance suite.
 *   A plugin that says nothing is taken as this.
 * - `fake-verified`: passes the conformance suite, with its faults run, against a wire-level fake of its
 *   service (and the fake answers the service's official SDK); never run against the real service by this project.
 * - `production`: also run against the real service, and its README says which versions and regions.
 */
export const PLUGIN_MATURITIES = ['experimental', 'fake-verified', 'production'] as const;
export type PluginMaturity = (typeof PLUGIN_MATURITIES)[number];

/** The IaaS contract's version (what `CONTRACT_VERSION` meant before kinds were versioned apart). */
export const CONTRACT_VERSION = CONTRACT_VERSIONS.iaas;

/** What each kind's `create` returns. */
export interface PluginInstanceByKind {
  iaas: IaasDriver;
  network: NetworkDriver;
  registry: RegistryDriver;
  credentials: CredentialProvider;
  alerts: AlertSink;
}

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

/** Time, injectable so tests and the health monitor can run on a fake clock. */
export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** One entry for the control plane's audit trail, as a plugin reports it (the core adds time and request). */
export interface AuditRecord {
  /** Who acted: a user's name, `engine`, or the actor string the plugin was given. */
  actor: string;
  /** Dotted verb, prefixed by the plugin's area: `credential.get`, `credential.generate`. */
  action: string;
  /** What was acted on: `credential:/slipway/clusters/.../ca`. */
  target?: string | null;
  /** `success`, `failure` or `denied`. */
  result: 'success' | 'failure' | 'denied';
  /** The caller's address, when the plugin knows it. */
  source?: string | null;
  details?: Record<string, unknown> | null;
}

/** Where a plugin writes through what it audits, so the control plane keeps one trail. Never throws. */
export interface AuditSink {
  record(entry: AuditRecord): void;
}

/** What a plugin may use of the core. Plugins never import the engine or tsyringe. */
export interface PluginHost {
  /** The control plane's audit trail (absent on older hosts): a plugin that audits writes through to it. */
  audit?: AuditSink;
  logger: Logger;
  clock: Clock;
  /** The configured credential provider (absent while the credential provider itself is being created). */
  credentials?: CredentialProvider;
  /** A directory this plugin instance owns for its own state (created for it, kept across restarts). */
  dataDir: string;
  /** The id the operator gave this plugin instance in slipway.yaml (`iaas[].name`). */
  instanceName: string;
  /**
   * A directory outside the control plane's home for key material the plugin creates (an encryption key):
   * `slipway backup` never copies it, so a backup alone does not open the secrets it holds. Shared by all
   * plugins: name files after the plugin. Absent on older hosts.
   */
  keysDir?: string;
  /**
   * The control plane's own database (credentials ≥ 1.2, network ≥ 2.2): a plugin keeps its state there,
   * in its own tables, so one backup and one failover cover it with the rest. Absent on older hosts.
   * `namespace` (lower-case letters, digits, `_`) names the plugin's migration table and prefixes its
   * tables and indexes.
   */
  database?(namespace: string): Promise<PluginDatabase>;
}

/** What `PluginHost.database` gives a plugin. */
export interface PluginDatabase {
  /** Which database the control plane runs on; a plugin's DDL and queries must work on both. */
  dialect: 'sqlite' | 'postgres';
  /**
   * A `Kysely<any>` (kysely 0.28) on the shared database: cast it to the plugin's schema. It belongs to the
   * host: the plugin never destroys it.
   */
  kysely: unknown;
  /** `<namespace>_`: every table and index the plugin creates starts with it (the core and other plugins share the schema). */
  tablePrefix: string;
  /** Names for the plugin's own kysely `Migrator` (`migrationTableName`, `migrationLockTableName`). */
  migrationTableName: string;
  migrationLockTableName: string;
}

/** A JSON Schema (draft 2020-12 subset that ajv understands). */
export type JsonSchema = Record<string, unknown>;

export interface PluginModule<K extends PluginKind = PluginKind, C = unknown> {
  kind: K;
  /** Semver range of contract versions this plugin implements, e.g. `^1.0.0`. */
  contract: string;
  /** Validated with ajv (allErrors) before `create` is called; every error is reported with its path. */
  configSchema: JsonSchema;
  /** Optional verbs this plugin implements, e.g. `disk.resize`. The engine checks before calling one. */
  capabilities?: readonly string[];
  /** Creates a live instance. I/O starts here, never at import time. */
  create(config: C, host: PluginHost): Promise<PluginInstanceByKind[K]>;
  /**
   * What `slipway backup` takes of an instance's data directory (optional). A plugin without it is not
   * backed up: an IaaS driver's data directory holds its cloud (the sandbox's inventory, the local driver's
   * VMs), which a restore must find as it is, not as it was.
   */
  backup?: PluginBackup;
}

/** How a plugin's state is backed up and how a restore checks that the keys it needs are there. */
export interface PluginBackup {
  /** SQLite databases (relative to the data directory), copied with SQLite's online backup API while in use. */
  databases?: readonly string[];
  /** Other files (relative to the data directory) the plugin writes atomically (temp file, rename); absent ones are skipped. */
  files?: readonly string[];
  /**
   * Ids of the encryption keys the data in `dataDir` is sealed under, read from the data alone (no key needed).
   * `store.sqliteFile`: the backup's copy of the control plane's SQLite database, where a plugin that keeps
   * its data in the host's database (PluginHost.database) reads it.
   */
  keyIdsInUse?(dataDir: string, store?: { sqliteFile?: string }): Promise<string[]>;
  /** Ids (and where each comes from) of the keys `config` gives this plugin on this host; never creates a key. */
  configuredKeys?(
    config: any,
    host: { dataDir: string; keysDir?: string; env: Record<string, string | undefined> },
  ): Promise<Array<{ id: string; source: string }>>;
}

export function definePlugin<K extends PluginKind, C>(module: PluginModule<K, C>): PluginModule<K, C> {
  return Object.freeze({ ...module, capabilities: Object.freeze([...(module.capabilities ?? [])]) });
}
