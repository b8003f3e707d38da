import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  SlipwayError,
  type Alert,
  type AlertSink,
  type Clock,
  type CredentialProvider,
  type Logger,
} from '@slipway/contracts';
import type { InjectionToken } from 'tsyringe';
import type { PluginRef } from '../config/schema.js';
import { PluginLoader } from '../plugins/loader.js';

/** Where alerts go: the control plane's log always, and every alert sink plugin slipway.yaml names. */
export interface AlertSinks {
  readonly sinks: ReadonlyArray<{ name: string; sink: AlertSink }>;
  destroy(): Promise<void>;
}

export const ALERT_SINKS: InjectionToken<AlertSinks> = 'slipway.alert-sinks';

/** The default sink: one log line per alert, at warn (error for critical ones). */
export class LogAlertSink implements AlertSink {
  constructor(private readonly logger: Logger) {}

  async send(alert: Alert): Promise<void> {
    const fields = {
      alert: alert.id,
      severity: alert.severity,
      cluster: alert.clusterId,
      instance: alert.instanceId,
      summary: alert.summary,
    };
    if (alert.severity === 'critical') this.logger.error(`ALERT ${alert.title}`, fields);
    else this.logger.warn(`ALERT ${alert.title}`, fields);
  }

  async destroy(): Promise<void> {}
}

/**
 * Loads the alert sink plugins of `health.alerts` with the same checks as every other plugin (installed,
 * version, kind `alerts`, contract, config schema) and creates them. One that fails to start is refused
 * with its path in slipway.yaml; those created before it are destroyed again.
 */
export async function createAlertSinks(
  refs: readonly PluginRef[],
  options: {
    configPath: string;
    searchDirs: readonly string[];
    dataDir: string;
    logger: Logger;
    clock: Clock;
    credentials: CredentialProvider;
  },
): Promise<AlertSinks> {
  const sinks: Array<{ name: string; sink: AlertSink }> = [
    { name: 'log', sink: new LogAlertSink(options.logger.child({ component: 'alerts' })) },
  ];
  const loader = new PluginLoader({ searchDirs: options.searchDirs, configDir: options.configPath });
  const destroyAll = async () => {
    for (const { sink } of [...sinks].reverse()) await sink.destroy().catch(() => {});
  };
  try {
    for (const [i, ref] of refs.entries()) {
      const path = `health.alerts[${i}]`;
      const plugin = await loader.resolve('alerts', ref, path);
      const instanceName = `alerts-${i}`;
      const dataDir = join(options.dataDir, 'alerts', instanceName);
      await mkdir(dataDir, { recursive: true, mode: 0o700 });
      try {
        const sink = await plugin.module.create(plugin.config, {
          logger: options.logger.child({ plugin: plugin.name, instance: instanceName }),
          clock: options.clock,
          credentials: options.credentials,
          dataDir,
          instanceName,
        });
        sinks.push({ name: plugin.name, sink });
      } catch (e) {
        const err = SlipwayError.from(e, 'PluginRefused', plugin.name);
        throw new SlipwayError(err.code, `${path}: ${plugin.name} ${plugin.version} failed to start: ${err.message}`, {
          cause: err,
          plugin: plugin.name,
        });
      }
    }
  } catch (e) {
    await destroyAll();
    throw e;
  }
  return { sinks, destroy: destroyAll };
}
