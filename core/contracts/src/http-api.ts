/**
 * HTTP routes a plugin serves on the control plane's own HTTPS server (contract 1.1): the credential
 * provider's CredHub API, say. The core stays ignorant of the routes; it forwards requests under `prefixes`.
 */
export interface PluginHttpApi {
  /** Path prefixes the plugin answers, e.g. `['/api/']`; they must not overlap the core's (`/v1/`, `/oauth/`). */
  readonly prefixes: readonly string[];
  /** A fetch handler; `env` carries the HTTP server's bindings (the socket, for source addresses). */
  fetch(request: Request, env?: unknown): Response | Promise<Response>;
  /**
   * The routes in OpenAPI 3.1 form (`paths`, and the `schemas` they reference under
   * `#/components/schemas/`), built from the definitions the plugin validates with; the core merges them
   * into its /openapi.json.
   */
  readonly openapi?: { paths: Record<string, unknown>; schemas?: Record<string, unknown> };
}

/** What the core gives a plugin's HTTP API: how to authenticate a caller and where the core is. */
export interface HttpApiHost {
  /** Resolves a bearer token to the caller; throws `Unauthenticated`. Users are actors `user:ID`, by their immutable user id. */
  authenticate(bearerToken: string): Promise<{ actor: string; roles: readonly string[] }>;
  /** The control plane's URL (its token endpoint is `/oauth/token`). */
  url: string;
  version: string;
}
