import type { HttpBindings } from '@hono/node-server';
import type { Logger, PluginHttpApi } from '@slipway/contracts';
import type { Engine, EngineServices, Principal } from '@slipway/engine';

/** What route handlers reach: the engine's services, never the store or the container. */
export interface ApiDeps {
  services: EngineServices;
  engine: Pick<Engine, 'plugins' | 'config' | 'store'> & Partial<Pick<Engine, 'metrics'>>;
  /** The token Prometheus scrapes GET /metrics with (metrics.scrape_token_file). */
  scrapeToken?: string;
  version: string;
  /** Routes plugins serve on this server (the credential provider's CredHub API), mounted under their prefixes. */
  pluginApis?: readonly PluginHttpApi[];
  /** Where internal errors are logged, with the id their answer carries. */
  logger?: Logger;
}

export type AppEnv = {
  Bindings: HttpBindings;
  Variables: {
    principal: Principal;
    /** This request's id (X-Request-ID), in its log lines and audit entry. */
    requestId: string;
    /** The user name a login tried, and its id when it succeeded (the audit's actor for /oauth/token). */
    auditActor?: string;
    auditActorId?: number;
    auditClusterUuid?: string;
  };
};
