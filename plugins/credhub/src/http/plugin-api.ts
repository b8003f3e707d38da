import type { HttpApiHost, Logger, PluginHttpApi } from '@slipway/contracts';
import type { CredhubCredentialProvider } from '../provider.js';
import { createCredhubApi } from './app.js';
import { credhubOpenApi } from './openapi.js';

/**
 * CredHub's v1/v2 API over a store, as the control plane serves it beside its own routes: under /api/,
 * authenticated with Slipway's bearer tokens, Slipway keeping its own /info and /health.
 */
export function credhubPluginApi(
  provider: CredhubCredentialProvider,
  host: HttpApiHost,
  logger?: Logger,
): PluginHttpApi {
  const app = createCredhubApi({
    provider,
    rootEndpoints: false,
    authServerUrl: host.url,
    version: host.version,
    logger,
    authenticate: (token) => host.authenticate(token),
  });
  return { prefixes: ['/api/'], fetch: (request, env) => app.fetch(request, env as never), openapi: credhubOpenApi() };
}
