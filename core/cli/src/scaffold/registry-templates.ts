/**
 * The files of a new registry driver package, as `slipway plugin init registry NAME` writes them. The driver
 * starts with `info` and `destroy` only, so its first conformance run lists exactly the verbs still to write;
 * the fake is an HTTPS-ready HTTP server on 127.0.0.1 with the fault knobs wired, waiting for the registry's
 * API routes and a real OCI data path (see the Harbor driver's fake: docker-registry behind token auth).
 */
import { packageFiles, pascal } from './package-files.js';

export interface RegistryScaffold {
  /** npm package name, e.g. `@acme/slipway-registry-foo`. */
  packageName: string;
  /** The registry's short name, e.g. `foo`. */
  registry: string;
  contract: string;
  contractsVersion: string;
  testkitVersion: string;
  simulationVersion: string;
}

export function registryScaffoldFiles(s: RegistryScaffold): Record<string, string> {
  const Name = pascal(s.registry);
  return {
    ...packageFiles({
      packageName: s.packageName,
      kind: 'registry',
      description: `Slipway registry driver for ${s.registry}`,
      contract: s.contract,
      contractsVersion: s.contractsVersion,
      testkitVersion: s.testkitVersion,
      simulationVersion: s.simulationVersion,
    }),

    'src/index.ts': `import { definePlugin, type RegistryDriver } from '@slipway/contracts';
import { configSchema, type ${Name}Config } from './config.js';
import { ${Name}RegistryDriver } from './driver.js';

export { ${Name}RegistryDriver } from './driver.js';
export type { ${Name}Config } from './config.js';

/**
 * The plugin module Slipway loads by package name. Declare an optional part in \`capabilities\` only once the
 * driver implements it ('quota', 'vulnerability', 'cosign', 'members', 'robot.push', 'leftovers'): the
 * conformance suite then runs its tests too.
 */
export default definePlugin({
  kind: 'registry',
  contract: '${s.contract}',
  configSchema,
  capabilities: [],
  async create(config: ${Name}Config, host) {
    // The cast goes once the driver has every verb: change \`Partial<RegistryDriver>\` in driver.ts to
    // \`RegistryDriver\` and tsc checks the whole contract too.
    return new ${Name}RegistryDriver(config, host) as unknown as RegistryDriver;
  },
});
`,

    'src/config.ts': `import type { JsonSchema } from '@slipway/contracts';

/** \`registry.config\` of slipway.yaml. Secrets are never here: \`credentials_ref\` names them. */
export interface ${Name}Config {
  /** The registry API's base URL (or the fake's). */
  url: string;
  /** Name of the credential (in Slipway's credential provider) holding the API login. */
  credentials_ref: string;
  /** PEM CA of the registry, when it is not publicly trusted. */
  ca_pem?: string;
}

export const configSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['url', 'credentials_ref'],
  properties: {
    url: { type: 'string', pattern: '^https?://', description: 'the registry API base URL' },
    credentials_ref: { type: 'string', minLength: 1, description: 'credential name, e.g. /slipway/registry/${s.registry}' },
    ca_pem: { type: 'string', pattern: '-----BEGIN CERTIFICATE-----' },
  },
};
`,

    'src/errors.ts': `import { SlipwayError, type ErrorCode } from '@slipway/contracts';

export const PLUGIN = '${s.packageName}';

/**
 * The one place this registry's errors become SlipwayErrors. The engine retries what is retryable
 * (throttling, 5xx) with backoff; the driver never retries on its own. Keep the registry's message.
 */
export function registryError(status: number, message: string, cause?: unknown): SlipwayError {
  const code: ErrorCode = status === 429 ? 'RateLimited' : status >= 500 ? 'Retryable' : status === 404 ? 'NotFound'
    : status === 401 ? 'Unauthenticated' : status === 403 ? 'Forbidden' : status === 409 ? 'AlreadyExists' : 'CloudError';
  return new SlipwayError(code, \`${s.registry}: \${message}\`, { plugin: PLUGIN, cause });
}
`,

    'src/driver.ts': `import type { CallOptions, PluginHost, RegistryDriver, RegistryInfo } from '@slipway/contracts';
import type { ${Name}Config } from './config.js';

/**
 * The ${s.registry} registry driver. Run \`npm test\`: the conformance suite's first test names every verb still
 * missing (ensureProject, ensureRobot, rotateRobotSecret, deleteRobot, deleteProject). Every verb takes
 * \`(input, { signal, requestId })\`, is idempotent by the names the engine picks, and lets deleting what is
 * gone succeed. A robot's secret is returned only when it is made or refreshed. Read the TSDoc of
 * \`RegistryDriver\` in @slipway/contracts for each verb.
 */
export class ${Name}RegistryDriver implements Partial<RegistryDriver> {
  constructor(private readonly config: ${Name}Config, private readonly host: PluginHost) {}

  async info(_options?: CallOptions): Promise<RegistryInfo> {
    return { endpoint: new URL(this.config.url).host, healthy: true, ...(this.config.ca_pem ? { caPem: this.config.ca_pem } : {}) };
  }

  async destroy(): Promise<void> {
    this.host.logger.debug('${s.registry} driver stopped', { url: this.config.url });
  }
}
`,

    'fake/index.ts': `import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RegistryFakeFaults, RegistryVerb, StartedRegistryFake } from '@slipway/simulation';
import type { ${Name}Config } from '../src/config.js';

type Fault = 'throttle' | 'server-error';

/**
 * A wire-level fake of the ${s.registry} API on 127.0.0.1: add the registry's real paths, status codes and
 * error bodies to \`route\`. The conformance suite checks robots at the data path (\`/v2/\`, Docker Registry
 * HTTP API v2 over HTTPS at \`info().endpoint\`), so the fake must serve a real OCI registry there: run
 * Debian's docker-registry as a child process with token auth, as @slipway/registry-harbor's fake does.
 */
export async function startFake(options: { port?: number } = {}): Promise<StartedRegistryFake<${Name}Config>> {
  const queued = new Map<RegistryVerb, Fault[]>();
  const rates = { throttle: 0, serverError: 0 };
  let latencyMs = 0;
  const take = (verb: RegistryVerb): Fault | undefined => {
    const next = queued.get(verb)?.shift();
    if (next) return next;
    const roll = Math.random();
    return roll < rates.throttle ? 'throttle' : roll < rates.throttle + rates.serverError ? 'server-error' : undefined;
  };
  const queue = (verb: RegistryVerb, fault: Fault, count = 1) => queued.set(verb, [...(queued.get(verb) ?? []), ...Array<Fault>(count).fill(fault)]);

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (latencyMs) await new Promise((r) => setTimeout(r, latencyMs));
    void take;
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ errors: [{ code: 'NOT_FOUND', message: \`no route \${req.method} \${req.url} in the fake yet\` }] }));
  };
  const server = createServer((req, res) => void route(req, res));
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const faults: RegistryFakeFaults = {
    throttleNext: (verb, count) => queue(verb, 'throttle', count),
    serverErrorNext: (verb, count) => queue(verb, 'server-error', count),
    setFaultRates: (r) => { rates.throttle = r.throttle ?? 0; rates.serverError = r.serverError ?? 0; },
    setLatency: (ms) => { latencyMs = ms; },
    reset: () => { queued.clear(); rates.throttle = 0; rates.serverError = 0; latencyMs = 0; },
  };
  return {
    config: { url: \`http://127.0.0.1:\${port}\`, credentials_ref: '/slipway/registry/${s.registry}' },
    credentials: [{ name: '/slipway/registry/${s.registry}', type: 'user', value: { username: 'admin', password: 'fake-password' } }],
    faults,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
`,

    'test/conformance.test.ts': `import { createRequire } from 'node:module';
import { runRegistryConformance, type RegistryConformanceOptions } from '@slipway/testkit';
import plugin from '../src/index.js';
import { startFake } from '../fake/index.js';

const packageJson = createRequire(import.meta.url)('../package.json');

// Skips need a reason that a reviewer would accept, e.g. { tests: ['robots > a push robot pushes, and nothing beyond its project'], reason: '...' }.
const options: RegistryConformanceOptions = { plugin, startFake, packageJson, skip: [] };
runRegistryConformance(options);

// The suite again on a registry that throttles 10% of API requests and fails 10% with a 5xx, through the
// engine's retries: it passes once every fault surfaces as a retryable error and every verb is safe to repeat.
runRegistryConformance({ ...options, faults: { throttle: 0.1, serverError: 0.1 } });
`,

    'README.md': `# ${s.packageName}

A Slipway registry driver for ${s.registry}.

## Configuration (\`registry.config\` in slipway.yaml)

| field | type | meaning |
|---|---|---|
| \`url\` | string, required | the registry API base URL |
| \`credentials_ref\` | string, required | name of the credential holding the API login |
| \`ca_pem\` | string | PEM CA of the registry when it is not publicly trusted |

## Contract verbs and the registry calls they make

| verb | ${s.registry} API call |
|---|---|
| info | |
| ensureProject | |
| ensureRobot | |
| rotateRobotSecret | |
| deleteRobot | |
| deleteProject | |

## Testing

\`npm test\` runs Slipway's registry conformance suite against the fake in \`fake/\`. Its first run lists the
verbs still missing; add them one at a time, with the fake's routes beside them.
`,

    'CHANGELOG.md': `# Changelog

## 0.1.0

- Package created with \`slipway plugin init registry ${s.registry}\`.
`,
  };
}
