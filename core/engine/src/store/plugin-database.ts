import { SlipwayError, type PluginDatabase } from '@slipway/contracts';
import { dialectOf } from './dialect.js';
import type { Db } from './open.js';

const NAMESPACE = /^[a-z][a-z0-9_]{0,30}$/;

/**
 * `PluginHost.database`: the store's own connection handed to a plugin under a namespace, so a plugin's
 * state lives in the same database as the control plane's (one backup, one failover) without sharing its
 * tables or its migration history.
 */
export function pluginDatabases(db: Db): (namespace: string) => Promise<PluginDatabase> {
  return async (namespace: string) => {
    if (!NAMESPACE.test(namespace)) {
      throw new SlipwayError(
        'InvalidInput',
        `database namespace "${namespace}" must be lower-case letters, digits and _ (at most 31), starting with a letter`,
      );
    }
    return {
      dialect: dialectOf(db),
      kysely: db,
      tablePrefix: `${namespace}_`,
      migrationTableName: `${namespace}_migration`,
      migrationLockTableName: `${namespace}_migration_lock`,
    };
  };
}
