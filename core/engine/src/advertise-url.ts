import { isIP } from 'node:net';
import type { SlipwayConfig } from './config/schema.js';
import type { Store } from './store/index.js';

/** The settings key under which the URL written into agents' bootstrap settings is kept. */
export const ADVERTISE_URL_SETTING = 'api.advertise_url';

export type AdvertiseSource = 'config' | 'previous' | 'this-start';

export interface AdvertisedUrl {
  url: string;
  source: AdvertiseSource;
  /** The URL advertised before, when the config now names another one (existing agents still dial it). */
  previous?: string;
}

/**
 * The URL agents are told to dial. A VM's agent reads it once, from its user data, when the VM boots, so
 * it must not change under running VMs: the configured `api.advertise_url` wins (and is kept); without
 * one, the URL of the first start is kept for as long as VMs exist, so a restart on another port or
 * address keeps every agent's URL valid (the control plane then serves that URL too, see
 * `extraListenerFor`). With no VM left, the URL follows the listener again.
 */
export async function chooseAdvertiseUrl(
  store: Store,
  config: SlipwayConfig,
  listenUrl: string,
): Promise<AdvertisedUrl> {
  const stored = await store.settings.get(ADVERTISE_URL_SETTING);
  if (config.api.advertise_url) {
    const url = config.api.advertise_url;
    if (stored !== url) await store.settings.set(ADVERTISE_URL_SETTING, url);
    return { url, source: 'config', ...(stored && stored !== url ? { previous: stored } : {}) };
  }
  if (stored && stored !== listenUrl && (await hasVms(store))) return { url: stored, source: 'previous' };
  if (stored !== listenUrl) await store.settings.set(ADVERTISE_URL_SETTING, listenUrl);
  return { url: listenUrl, source: 'this-start' };
}

/** How this start relates to the URL agents dial. */
export type AdvertisedReach =
  | { kind: 'covered' }
  /** On this machine but not on this listener (a restart on another port): serve it too. */
  | { kind: 'serve'; host: string; port: number }
  /** Another host: reached only through the operator's routing (a load balancer, a NAT rule, DNS). */
  | { kind: 'elsewhere' };

/** Whether the listener covers the advertised URL, or it must be served too, or it is someone else's to route. */
export function reachOf(
  advertised: string,
  config: SlipwayConfig,
  listening: { host: string; port: number },
): AdvertisedReach {
  const url = new URL(advertised);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port || 443);
  const wildcard = config.api.bind === '0.0.0.0' || config.api.bind === '::';
  const local = host === 'localhost' || host === config.api.bind || isLoopback(host) || (wildcard && isIP(host) !== 0);
  if (!local) return { kind: 'elsewhere' };
  if (port === listening.port && (host === listening.host || wildcard || config.api.bind === host))
    return { kind: 'covered' };
  return { kind: 'serve', host: host === 'localhost' ? '127.0.0.1' : host, port };
}

/** The address and port to serve besides the listener, if any (see `reachOf`). */
export function extraListenerFor(
  advertised: string,
  config: SlipwayConfig,
  listening: { host: string; port: number },
): { host: string; port: number } | undefined {
  const reach = reachOf(advertised, config, listening);
  return reach.kind === 'serve' ? { host: reach.host, port: reach.port } : undefined;
}

function isLoopback(host: string): boolean {
  return host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
}

async function hasVms(store: Store): Promise<boolean> {
  const row = await store.db
    .selectFrom('instances')
    .select('id')
    .where('vm_cid', 'is not', null)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}
