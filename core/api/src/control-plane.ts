import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { resolve, join } from 'node:path';
import { getRequestListener } from '@hono/node-server';
import { SlipwayError } from '@slipway/contracts';
import { DEFAULT_CONFIG_YAML, LineLogger, openEngine, parseConfigText, validateConfig, type Engine } from '@slipway/engine';
import { createApp } from './app.js';

export interface ControlPlaneOptions {
  /** State directory; default $SLIPWAY_HOME or ./.slipway */
  home?: string;
  /** Port; default $SLIPWAY_PORT or api.port from the config (9021). 0 picks a free port. */
  port?: number;
  /** Config file; default $SLIPWAY_CONFIG or $SLIPWAY_HOME/slipway.yaml (written with comments on first start). */
  configPath?: string;
  /** Where log lines go; default stderr. */
  log?: (line: string) => void;
  /** The admin password for the first start; default $SLIPWAY_ADMIN_PASSWORD, else generated. */
  adminPassword?: string;
  env?: NodeJS.ProcessEnv;
}

export interface RunningControlPlane {
  url: string;
  caPath: string;
  configPath: string;
  home: string;
  /** Set on the first start only, when the password was generated: print it once. */
  adminPassword?: string;
  /** This start created the admin user (a new home). */
  firstStart: boolean;
  /** Slipway's version. */
  version: string;
  stop(): Promise<void>;
}

const VERSION: string = (() => {
  try {
    return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
})();

/** `slipway up`: the process's composition of engine, API and HTTPS server. */
export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<RunningControlPlane> {
  const env = options.env ?? process.env;
  // An empty variable counts as unset, as shells and CI systems often leave them.
  const home = resolve(options.home || env.SLIPWAY_HOME || '.slipway');
  await mkdir(home, { recursive: true, mode: 0o700 });
  const explicitConfig = options.configPath || env.SLIPWAY_CONFIG || undefined;
  const configPath = resolve(explicitConfig ?? join(home, 'slipway.yaml'));
  if (!existsSync(configPath)) {
    if (explicitConfig) throw new SlipwayError('InvalidConfig', `config file ${configPath} does not exist`, { hint: 'Pass an existing file, or omit --config to use $SLIPWAY_HOME/slipway.yaml.' });
    await writeFile(configPath, DEFAULT_CONFIG_YAML, { mode: 0o600 });
  }
  const raw = parseConfigText(await readFile(configPath, 'utf8'), configPath) as Record<string, any>;
  const portOverride = options.port ?? (env.SLIPWAY_PORT !== undefined && env.SLIPWAY_PORT !== '' ? Number(env.SLIPWAY_PORT) : undefined);
  if (portOverride !== undefined) raw.api = { ...(raw.api ?? {}), port: portOverride };
  const { config, errors } = validateConfig(raw);
  if (!config) throw new SlipwayError('InvalidConfig', `${configPath} is invalid:\n  ${errors.join('\n  ')}`, { details: { errors } });

  const sink = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const logger = new LineLogger(sink, env.SLIPWAY_LOG_LEVEL === 'debug' ? 'debug' : 'info');
  const engine: Engine = await openEngine({ home, config, configPath, logger, version: VERSION });

  // Requests that arrive while the engine finishes starting get a clear 503.
  let listener: ReturnType<typeof getRequestListener> = async (_req, res) => {
    res.writeHead(503, { 'content-type': 'application/problem+json', 'retry-after': '1' });
    res.end(JSON.stringify({ type: 'https://slipway.dev/errors/Retryable', title: 'Retryable', status: 503, code: 'Retryable', detail: 'Slipway is starting', hint: 'Retry in a second.' }));
  };
  const server: Server = createServer({
    cert: engine.tls.cert, key: engine.tls.key,
    // Agents present client certificates from the agent CA; users present none and use bearer tokens.
    ca: [engine.tls.agentCaPem], requestCert: true, rejectUnauthorized: false,
    keepAliveTimeout: 65_000,
    // How often node looks for connections past headersTimeout/requestTimeout (default 30 s): a slow-body
    // client is closed within a second of its bound.
    connectionsCheckingInterval: 1000,
  }, (req, res) => listener(req, res));
  // A client has this long to send its headers, and its whole request; a trickled body is cut off there.
  // Node stops counting once the request is received, so the agent channel's long-held answers are not cut.
  server.headersTimeout = config.api.headers_timeout_seconds * 1000;
  server.requestTimeout = config.api.request_timeout_seconds * 1000;
  try {
    await new Promise<void>((ok, fail) => {
      server.once('error', fail);
      server.listen(config.api.port, config.api.bind, () => { server.off('error', fail); ok(); });
    });
  } catch (e) {
    await engine.close();
    const err = e as NodeJS.ErrnoException;
    throw new SlipwayError('InvalidConfig', `cannot listen on ${config.api.bind}:${config.api.port}: ${err.code ?? err.message}`, {
      cause: e, field: 'api.port', hint: err.code === 'EADDRINUSE' ? 'Another process uses the port: stop it, or pass --port N.' : 'Check api.bind and api.port.',
    });
  }
  const port = (server.address() as AddressInfo).port;
  const host = config.api.bind === '0.0.0.0' ? '127.0.0.1' : config.api.bind;
  const url = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const services = await engine.start(config.api.advertise_url ?? url);
  const admin = await services.auth.ensureAdmin(options.adminPassword ?? env.SLIPWAY_ADMIN_PASSWORD);
  const adminPassword = admin.generatedPassword;
  const credentialApi = await engine.plugins.credentials.httpApi?.({
    url: config.api.advertise_url ?? url, version: VERSION,
    async authenticate(token) {
      const principal = await services.auth.authenticate(token);
      return { actor: `user:${principal.name}`, roles: principal.roles };
    },
  });
  const app = createApp({ services, engine, version: VERSION, pluginApis: credentialApi ? [credentialApi] : [], logger });
  // Expired tokens are deleted at start and every hour; a failure here never stops the API.
  const prune = () => services.auth.pruneExpiredTokens().then((n) => { if (n) logger.info('expired tokens pruned', { count: n }); }, (e) => logger.warn('token pruning failed', { error: String(e) }));
  await prune();
  const pruneTimer = setInterval(prune, 3_600_000);
  pruneTimer.unref();
  listener = getRequestListener(app.fetch);
  logger.info(`slipway ${VERSION} listening`, { url, home, config: configPath, plugins: engine.plugins.loaded.map((p) => `${p.name}@${p.version}`).join(',') });

  let stopped: Promise<void> | undefined;
  return {
    url, caPath: engine.caPath, configPath, home, adminPassword, firstStart: admin.created, version: VERSION,
    stop() {
      stopped ??= (async () => {
        clearInterval(pruneTimer);
        await new Promise<void>((ok) => {
          server.close(() => ok());
          server.closeAllConnections();
        });
        await engine.close();
      })();
      return stopped;
    },
  };
}
