import type { CallOptions } from './call.js';

/**
 * A registry driver gives each cluster a project in an image registry and a robot account its nodes pull
 * with. Idempotent by cluster id.
 */
export interface RegistryDriver {
  /** Creates (or finds) the cluster's project and a pull robot; returns what the nodes need to pull. */
  ensureClusterProject(input: { clusterId: string; clusterName: string }, options?: CallOptions): Promise<RegistryProject>;
  /** Deletes the cluster's robot and project; succeeds when they are gone. */
  deleteClusterProject(input: { clusterId: string }, options?: CallOptions): Promise<void>;
  destroy(): Promise<void>;
}

export interface RegistryProject {
  project: string;
  /** Registry host clients pull from, e.g. `harbor.example.test`. */
  endpoint: string;
  robot: { name: string; secret: string };
  /** PEM CA of the registry, when it is not publicly trusted. */
  caPem?: string;
}
