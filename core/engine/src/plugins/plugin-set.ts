import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  SlipwayError,
  type Clock,
  type CredentialProvider,
  type IaasDriver,
  type Logger,
  type AuditSink,
  type NetworkCapability,
  type NetworkDriver,
  networkCapabilities,
  type PluginHost,
  type PluginKind,
  type RegistryDriver,
} from '@slipway/contracts';
import type { ResolvedPlugin } from './loader.js';

export interface IaasTargetRuntime {
  name: string;
  plugin: string;
  version: string;
  capabilities: readonly string[];
  driver: IaasDriver;
}

/** The live plugin instances of one control plane. */
export interface PluginSet {
  credentials: CredentialProvider;
  iaas: ReadonlyMap<string, IaasTargetRuntime>;
  network: NetworkDriver;
  /** What the network driver instance offers (`lb`, `leftovers`...): its own list, else its module's. */
  networkCapabilities: readonly NetworkCapability[];
  registry?: RegistryDriver;
  /** Capabilities the registry plugin declares (checked before an optional part is asked of it). */
  registryCapabilities?: readonly string[];
  /** Every loaded plugin, for `GET /v1/info` and logs. */
  loaded: Array<{ kind: PluginKind; name: string; version: string; instance: string }>;
  iaasTarget(name: string): IaasTargetRuntime;
  destroy(): Promise<void>;
}

export interface PluginSetOptions {
  dataDir: string;
  keysDir?: string;
  logger: Logger;
  clock: Clock;
  /** The control plane's database, offered to plugins (PluginHost.database); absent, plugins keep their own files. */
  database?: PluginHost['database'];
  /** Where plugins' audit events go (PluginHost.audit): the control plane's one trail. */
  audit?: AuditSink;
  /** Wraps each IaaS driver (the metrics' metering); identity when absent. */
  meterIaas?: (target: string, plugin: string, driver: IaasDriver) => IaasDriver;
}

/**
 * Creates plugin instances in dependency order: the credential provider first (others may read their
 * cloud credentials from it), then IaaS targets, network and registry. On a failure, what was created is
 * destroyed again, so a refused start leaks nothing.
 */
export async function createPluginSet(resolved: ResolvedPlugin[], options: PluginSetOptions): Promise<PluginSet> {
  const created: Array<{ destroy(): Promise<void> }> = [];
  const make = async <T extends { destroy(): Promise<void> }>(
    plugin: ResolvedPlugin,
    instanceName: string,
    credentials?: CredentialProvider,
  ): Promise<T> => {
    const instance = await createPluginInstance<T>(plugin, instanceName, options, credentials);
    created.push(instance);
    return instance;
  };

  try {
    const credentialPlugin = resolved.find((p) => p.kind === 'credentials');
    if (!credentialPlugin) throw new SlipwayError('InvalidConfig', 'credentials: no credential provider configured');
    const credentials = await make<CredentialProvider>(credentialPlugin, 'default');
    const iaas = new Map<string, IaasTargetRuntime>();
    for (const plugin of resolved.filter((p) => p.kind === 'iaas')) {
      const name = plugin.instanceName;
      const driver = await make<IaasDriver>(plugin, name, credentials);
      iaas.set(name, {
        name,
        plugin: plugin.name,
        version: plugin.version,
        capabilities: plugin.module.capabilities ?? [],
        driver: options.meterIaas?.(name, plugin.name, driver) ?? driver,
      });
    }
    const networkPlugin = resolved.find((p) => p.kind === 'network');
    if (!networkPlugin) throw new SlipwayError('InvalidConfig', 'network: no network driver configured');
    const network = await make<NetworkDriver>(networkPlugin, 'default', credentials);
    const registryPlugin = resolved.find((p) => p.kind === 'registry');
    const registry = registryPlugin ? await make<RegistryDriver>(registryPlugin, 'default', credentials) : undefined;
    return {
      credentials,
      iaas,
      network,
      registry,
      registryCapabilities: registryPlugin?.module.capabilities ?? [],
      networkCapabilities: networkCapabilities(networkPlugin.module, network),
      loaded: resolved.map((p) => ({ kind: p.kind, name: p.name, version: p.version, instance: p.instanceName })),
      iaasTarget(name: string) {
        const target = iaas.get(name);
        if (!target)
          throw new SlipwayError(
            'NotFound',
            `IaaS target "${name}" is not configured; known: ${[...iaas.keys()].join(', ')}`,
          );
        return target;
      },
      async destroy() {
        for (const instance of created.reverse()) await instance.destroy().catch(() => {});
      },
    };
  } catch (e) {
    for (const instance of created.reverse()) await instance.destroy().catch(() => {});
    throw e;
  }
}

/**
 * Creates one plugin instance with its host: its own data directory under `dataDir/KIND/INSTANCE` (the
 * same path on every start, so its state is found again), a logger naming it, the clock and credentials.
 */
export async function createPluginInstance<T>(
  plugin: ResolvedPlugin,
  instanceName: string,
  options: PluginSetOptions,
  credentials?: CredentialProvider,
): Promise<T> {
  const dataDir = join(options.dataDir, plugin.kind, instanceName);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const host: PluginHost = {
    logger: options.logger.child({ plugin: plugin.name, instance: instanceName }),
    clock: options.clock,
    credentials,
    dataDir,
    instanceName,
    ...(options.keysDir ? { keysDir: options.keysDir } : {}),
    ...(options.database ? { database: options.database } : {}),
    ...(options.audit ? { audit: options.audit } : {}),
  };
  try {
    return (await plugin.module.create(plugin.config, host)) as unknown as T;
  } catch (e) {
    const err = SlipwayError.from(e, 'PluginRefused', plugin.name);
    throw new SlipwayError(
      err.code,
      `${plugin.configPath}: ${plugin.name} ${plugin.version} failed to start: ${err.message}`,
      { cause: err, plugin: plugin.name, hint: err.hint },
    );
  }
}
