import type { JsonSchema } from '@slipway/contracts';

/**
 * Operator configuration of the Harbor driver (`registry.config` in slipway.yaml). No secret is here:
 * `credentials_ref` names a `user` credential (Harbor admin or a system robot account).
 */
export interface HarborConfig {
  /** Harbor's base URL, e.g. `https://harbor.example.com`; the API is `/api/v2.0` below it. */
  url: string;
  /** Name of a `user` credential `{ username, password }`: an admin, or a system-level robot with project and robot permissions. */
  credentials_ref: string;
  /** PEM CA that signed Harbor's API certificate, when it is not publicly trusted. */
  ca_pem?: string;
  /** Host (and port) that nodes pull from; default the host of `url`. */
  registry_host?: string;
  /** Prefix of every project this driver makes; `listProjects` reports only these. Default `slipway-`. */
  project_prefix?: string;
  /** Request timeout in ms for one API call. Default 30000. */
  timeout_ms?: number;
}

export const configSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['url', 'credentials_ref'],
  properties: {
    url: {
      type: 'string',
      pattern: '^https?://[^/]+/?$',
      description: 'Harbor base URL without a path, e.g. https://harbor.example.com',
    },
    credentials_ref: {
      type: 'string',
      minLength: 1,
      description: 'Name of a user credential: Harbor admin or a system robot account',
    },
    ca_pem: {
      type: 'string',
      pattern: '-----BEGIN CERTIFICATE-----',
      description: "PEM CA of Harbor's API certificate",
    },
    registry_host: { type: 'string', pattern: '^[A-Za-z0-9.-]+(:\\d+)?$', description: 'host[:port] nodes pull from' },
    project_prefix: {
      type: 'string',
      pattern: '^[a-z0-9][a-z0-9._-]{0,20}$',
      description: 'prefix of the projects this driver makes',
    },
    timeout_ms: { type: 'integer', minimum: 100, maximum: 600000 },
  },
};

export const DEFAULT_PROJECT_PREFIX = 'slipway-';
