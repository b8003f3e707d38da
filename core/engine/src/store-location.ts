import { join } from 'node:path';
import type { SlipwayConfig } from './config/schema.js';
import { parseStoreUrl, type StoreLocation } from './store/dialect.js';

/** The SQLite file of a home when nothing names another store. */
export const STORE_FILE = 'slipway.db';

/**
 * Where the control plane's state lives: `SLIPWAY_STORE_URL`, else `store.url` of slipway.yaml, else the
 * SQLite file every home has had. A relative SQLite path is relative to the home.
 */
export function storeLocationOf(
  home: string,
  config: SlipwayConfig,
  env: NodeJS.ProcessEnv = process.env,
): StoreLocation {
  const fromEnv = env.SLIPWAY_STORE_URL?.trim();
  if (fromEnv) return parseStoreUrl(fromEnv, home, 'SLIPWAY_STORE_URL');
  if (config.store?.url) return parseStoreUrl(config.store.url, home, 'store.url');
  return { dialect: 'sqlite', file: join(home, STORE_FILE) };
}
