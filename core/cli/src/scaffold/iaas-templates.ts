/**
 * The files of a new IaaS driver package, as `slipway plugin init iaas NAME` writes them. The driver starts
 * with `info` and `destroy` only, so its first conformance run lists exactly the contract verbs still to
 * write; the fake is an HTTP server on 127.0.0.1 with the fault knobs wired, waiting for the cloud's routes.
 */
import { packageFiles, pascal } from './package-files.js';

export interface IaasScaffold {
  /** npm package name, e.g. `@acme/slipway-iaas-foo`. */
  packageName: string;
  /** The cloud's short name, e.g. `foo`. */
  cloud: string;
  /** The Slipway contract range the driver implements. */
  contract: string;
  /** Versions of the Slipway packages it is built against. */
  contractsVersion: string;
  testkitVersion: string;
  simulationVersion: string;
}

export function iaasScaffoldFiles(s: IaasScaffold): Record<string, string> {
  const Cloud = pascal(s.cloud);
  return {
    ...packageFiles({
      packageName: s.packageName,
      kind: 'iaas',
      description: `Slipway IaaS driver for ${s.cloud}`,
      extraExports: { './metadata': './src/metadata.ts' },
      contract: s.contract,
      contractsVersion: s.contractsVersion,
      testkitVersion: s.testkitVersion,
      simulationVersion: s.simulationVersion,
    }),

    'src/index.ts': `import { definePlugin, type IaasDriver } from '@slipway/contracts';
import { configSchema, type ${Cloud}Config } from './config.js';
import { ${Cloud}IaasDriver } from './driver.js';

export { ${Cloud}IaasDriver } from './driver.js';
export type { ${Cloud}Config } from './config.js';

/**
 * The plugin module Slipway loads by package name. Declare an optional verb in \`capabilities\` only once the
 * driver implements it ('vm.reboot', 'disk.resize', 'disk.snapshot', 'inventory'): the conformance suite
 * then runs its tests too.
 */
export default definePlugin({
  kind: 'iaas',
  contract: '${s.contract}',
  configSchema,
  capabilities: [],
  async create(config: ${Cloud}Config, host) {
    // The cast goes once the driver has every verb: change \`Partial<IaasDriver>\` in driver.ts to
    // \`IaasDriver\` and tsc checks the whole contract too.
    return new ${Cloud}IaasDriver(config, host) as unknown as IaasDriver;
  },
});
`,

    'src/config.ts': `import type { JsonSchema } from '@slipway/contracts';

/** \`iaas[].config\` of slipway.yaml for this cloud. Secrets are never here: \`credentials_ref\` names them. */
export interface ${Cloud}Config {
  /** The cloud API's base URL (a region endpoint, a private cloud, or the fake). */
  endpoint: string;
  /** Name of the credential (in Slipway's credential provider) holding the API key. */
  credentials_ref: string;
  region?: string;
}

export const configSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['endpoint', 'credentials_ref'],
  properties: {
    endpoint: { type: 'string', pattern: '^https?://', description: 'the cloud API base URL' },
    credentials_ref: { type: 'string', minLength: 1, description: 'credential name, e.g. /slipway/iaas/${s.cloud}' },
    region: { type: 'string', minLength: 1 },
  },
};
`,

    'src/errors.ts': `import { SlipwayError, type ErrorCode } from '@slipway/contracts';

export const PLUGIN = '${s.packageName}';

/**
 * The one place this cloud's errors become SlipwayErrors. The engine retries what is retryable
 * (throttling, 5xx) with backoff; the driver never retries on its own. Keep the cloud's message.
 */
export function cloudError(status: number, message: string, cause?: unknown): SlipwayError {
  const code: ErrorCode = status === 429 ? 'RateLimited' : status >= 500 ? 'Retryable' : status === 404 ? 'NotFound'
    : status === 401 ? 'Unauthenticated' : status === 403 ? 'Forbidden' : status === 409 ? 'Conflict' : 'CloudError';
  return new SlipwayError(code, \`${s.cloud}: \${message}\`, { plugin: PLUGIN, cause });
}
`,

    'src/driver.ts': `import type { CallOptions, IaasDriver, IaasInfo, PluginHost } from '@slipway/contracts';
import type { ${Cloud}Config } from './config.js';

/**
 * The ${s.cloud} IaaS driver. Slipway's IaaS contract is the BOSH CPI: run \`npm test\` and the conformance
 * suite's first test names every verb still missing (createStemcell, createVm, createDisk...). Each verb
 * takes \`(input, { signal, requestId })\`: honour the signal, use requestId as the cloud's idempotency key, and
 * let deleting what is gone succeed. Read the TSDoc of \`IaasDriver\` in @slipway/contracts for each verb.
 */
export class ${Cloud}IaasDriver implements Partial<IaasDriver> {
  constructor(private readonly config: ${Cloud}Config, private readonly host: PluginHost) {}

  async info(_options?: CallOptions): Promise<IaasInfo> {
    return { name: '${s.cloud}', apiVersion: 2, stemcellFormats: ['${s.cloud}-image'] };
  }

  async destroy(): Promise<void> {
    this.host.logger.debug('${s.cloud} driver stopped', { endpoint: this.config.endpoint });
  }
}
`,

    'src/metadata.ts': `import { decodeAgentSettings, type AgentSettings, type MetadataSource } from '@slipway/contracts';

/**
 * The agent side: on a VM of this cloud, the node agent reads the settings \`createVm\` delivered as user
 * data from the cloud's metadata service. Point \`baseUrl\` at the fake's metadata endpoint in tests.
 */
export class ${Cloud}MetadataSource implements MetadataSource {
  readonly kind = '${s.cloud}-metadata';

  constructor(private readonly baseUrl: string) {}

  async readSettings(signal?: AbortSignal): Promise<AgentSettings> {
    const res = await fetch(new URL('user-data', this.baseUrl), { signal });
    if (!res.ok) throw new Error(\`metadata service answered \${res.status}\`);
    return decodeAgentSettings(await res.text());
  }
}
`,

    'fake/index.ts': `import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FakeFaults, IaasVerb, StartedFake } from '@slipway/simulation';
import type { ${Cloud}Config } from '../src/config.js';

type Fault = 'throttle' | 'server-error' | 'permanent';

/**
 * A wire-level fake of the ${s.cloud} API on 127.0.0.1: add the cloud's real paths, status codes and error
 * bodies to \`route\`, boot a simulated agent (bootSimulatedAgent from @slipway/simulation) when a VM
 * starts, and serve its user data at /metadata/{vm}/user-data. The fault knobs below are already wired:
 * \`take(verb)\` returns the fault to answer with, if one is queued.
 */
export async function startFake(options: { port?: number } = {}): Promise<StartedFake<${Cloud}Config>> {
  const queued = new Map<IaasVerb, Fault[]>();
  const rates = { throttle: 0, serverError: 0 };
  let latencyMs = 0;
  let quota: { vms?: number; disks?: number } = {};
  const take = (verb: IaasVerb): Fault | undefined => {
    const next = queued.get(verb)?.shift();
    if (next) return next;
    const roll = Math.random();
    return roll < rates.throttle ? 'throttle' : roll < rates.throttle + rates.serverError ? 'server-error' : undefined;
  };
  const queue = (verb: IaasVerb, fault: Fault, count = 1) => queued.set(verb, [...(queued.get(verb) ?? []), ...Array<Fault>(count).fill(fault)]);

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (latencyMs) await new Promise((r) => setTimeout(r, latencyMs));
    void take; void quota;
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { code: 'NotFound', message: \`no route \${req.method} \${req.url} in the fake yet\` } }));
  };
  const server = createServer((req, res) => void route(req, res));
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const faults: FakeFaults = {
    throttleNext: (verb, count) => queue(verb, 'throttle', count),
    serverErrorNext: (verb, count) => queue(verb, 'server-error', count),
    permanentErrorNext: (verb, count) => { queue(verb, 'permanent', count); },
    setFaultRates: (r) => { rates.throttle = r.throttle ?? 0; rates.serverError = r.serverError ?? 0; },
    setLatency: (ms) => { latencyMs = ms; },
    killVm: async () => {},
    setQuota: (q) => { quota = { ...q }; },
    reset: () => { queued.clear(); rates.throttle = 0; rates.serverError = 0; latencyMs = 0; quota = {}; },
  };
  return {
    config: { endpoint: \`http://127.0.0.1:\${port}\`, credentials_ref: '/slipway/iaas/${s.cloud}' },
    credentials: [{ name: '/slipway/iaas/${s.cloud}', type: 'json', value: { api_key: 'fake-key' } }],
    faults,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
`,

    'test/conformance.test.ts': `import { createRequire } from 'node:module';
import { runIaasConformance, type IaasConformanceOptions } from '@slipway/testkit';
import plugin from '../src/index.js';
import { startFake } from '../fake/index.js';

const packageJson = createRequire(import.meta.url)('../package.json');

// Skips need a reason that a reviewer would accept, e.g. { tests: ['disk > snapshot round-trip'], reason: '...' }.
const options: IaasConformanceOptions = { plugin, startFake, packageJson, skip: [] };
runIaasConformance(options);

// The suite again on a cloud that throttles 10% of requests and fails 10% with a 5xx, through the engine's
// retries: it passes once every fault surfaces as a retryable error and every verb is safe to repeat.
runIaasConformance({ ...options, faults: { throttle: 0.1, serverError: 0.1 } });
`,

    'README.md': `# ${s.packageName}

A Slipway IaaS driver for ${s.cloud}.

## Configuration (\`iaas[].config\` in slipway.yaml)

| field | type | meaning |
|---|---|---|
| \`endpoint\` | string, required | the cloud API base URL |
| \`credentials_ref\` | string, required | name of the credential holding the API key |
| \`region\` | string | region to place VMs and disks in |

## Contract verbs and the cloud calls they make

| verb | ${s.cloud} API call |
|---|---|
| createStemcell | |
| createVm | |
| deleteVm | |
| hasVm | |
| setVmMetadata | |
| createDisk / deleteDisk | |
| attachDisk / detachDisk | |
| hasDisk / getDisks | |

## Testing

\`npm test\` runs Slipway's IaaS conformance suite against the fake in \`fake/\`. Its first run lists the
verbs still missing; add them one at a time, with the fake's routes beside them.
`,

    'CHANGELOG.md': `# Changelog

## 0.1.0

- Package created with \`slipway plugin init iaas ${s.cloud}\`.
`,
  };
}
