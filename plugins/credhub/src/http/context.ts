import type { Context } from 'hono';
import type { CredentialContext, Logger } from '@slipway/contracts';
import type { CredhubCredentialProvider } from '../provider.js';

/** Who a bearer token belongs to: a user (`user:42`, by its immutable id), or a client such as `slipway:engine`. */
export interface CredhubPrincipal {
  actor: string;
  roles?: readonly string[];
}

export interface CredhubApiOptions {
  provider: CredhubCredentialProvider;
  /** Resolves a bearer token, or throws SlipwayError('Unauthenticated'). */
  authenticate(bearerToken: string): Promise<CredhubPrincipal>;
  /**
   * Serve CredHub's /info and /health at the root, as CredHub does (default true). Mounted beside an app
   * that has its own /info and /health, pass false: they stay at /api/v1/info and /api/v1/health.
   */
  rootEndpoints?: boolean;
  /** The token endpoint's base URL, announced in /info as CredHub announces its UAA (`auth-server.url`). */
  authServerUrl?: string;
  /** Reported by /version. */
  version?: string;
  /** The caller's address for the audit trail; default: the socket's remote address under @hono/node-server. */
  sourceAddress?(c: Context): string | undefined;
  /** Where internal errors are logged, with the id their answer carries. */
  logger?: Pick<Logger, 'error'>;
}

export interface CredhubEnv {
  Variables: { credentials: CredentialContext };
}

export type CredhubContext = Context<CredhubEnv>;
