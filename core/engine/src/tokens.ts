import type { InjectionToken } from 'tsyringe';
import type { Clock, Logger } from '@slipway/contracts';
import type { SlipwayConfig } from './config/schema.js';
import type { PluginSet } from './plugins/plugin-set.js';
import type { Store } from './store/index.js';

/** Typed injection tokens for what is not a class. Only composition roots call `container.resolve`. */
export const CONFIG: InjectionToken<SlipwayConfig> = 'slipway.config';
export const STORE: InjectionToken<Store> = 'slipway.store';
export const PLUGINS: InjectionToken<PluginSet> = 'slipway.plugins';
export const CLOCK: InjectionToken<Clock> = 'slipway.clock';
export const LOGGER: InjectionToken<Logger> = 'slipway.logger';
export const CONTROL_PLANE: InjectionToken<ControlPlaneIdentity> = 'slipway.control-plane';
/** This replica's hold on tasks (replicas/task-leases.ts). */
export const TASK_LEASES: InjectionToken<import('./replicas/task-leases.js').TaskLeases> = 'slipway.task-leases';
/** Wakes what waits on a change made by any replica (replicas/change-feed.ts). */
export const CHANGE_FEED: InjectionToken<import('./replicas/change-feed.js').ChangeFeed> = 'slipway.change-feed';

/** How agents reach and trust the control plane. */
export interface ControlPlaneIdentity {
  /** URL agents dial. */
  agentUrl: string;
  /** PEM of the CA that signed the serving certificate. */
  caPem: string;
  /** Name of the CA credential that signs agents' client certificates. */
  agentCaName: string;
  /** Version reported in clusters (`slipway_version`). */
  version: string;
}

/** The API's serving certificate, renewed in place (certificates/serving-certificate.ts). */
export const SERVING_CERTIFICATE: InjectionToken<import('./certificates/serving-certificate.js').ServingCertificate> =
  'slipway.serving-certificate';
