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
  network: '2.1.0',
  registry: '2.0.0',
  credentials: '1.1.0',
  alerts: '1.1.0',
});

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

/** What a plugin may use of the core. Plugins never import the engine or tsyringe. */
export interface PluginHost {
  logger: Logger;
  clock: Clock;
  /** The configured credential provider (absent while the credential provider itself is being created). */
  credentials?: CredentialProvider;
  /** A directory this plugin instance owns for its own state (created for it, kept across restarts). */
  dataDir: string;
  /** The id the operator gave this plugin instance in slipway.yaml (`iaas[].name`). */
  instanceName: string;
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
}

export function definePlugin<K extends PluginKind, C>(module: PluginModule<K, C>): PluginModule<K, C> {
  return Object.freeze({ ...module, capabilities: Object.freeze([...(module.capabilities ?? [])]) });
}
