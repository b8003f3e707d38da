import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { dirname, resolve, join } from 'node:path';
import { getRequestListener } from '@hono/node-server';
import { SlipwayError, type Clock, type Logger } from '@slipway/contracts';
import {
  chooseAdvertiseUrl,
  DEFAULT_CONFIG_YAML,
  defaultKeysDir,
  HomeLock,
  reachOf,
  LineLogger,
  openEngine,
  parseConfigText,
  userActor,
  validateConfig,
  weakPasswordHashing,
  JsonLogger,
  type Engine,
  type SlipwayConfig,
} from '@slipway/engine';
import { createApp } from './app.js';

export interface ControlPlaneOptions {
  /** State directory; default $SLIPWAY_HOME or ./.slipway */
  home?: string;
  /** Port; default $SLIPWAY_PORT or api.port from the config (9021). 0 picks a free port. */
  port?: number;
  /** Config file; default $SLIPWAY_CONFIG or $SLIPWAY_HOME/slipway.yaml (written with comments on first start). */
  configPath?: string;
  /** Where key material lives, outside the home so no backup of the home holds it; default $SLIPWAY_KEYS or HOME-keys. */
  keysDir?: string;
  /** Where log lines go; default stderr. */
  log?: (line: string) => void;
  /** Whether `log` ends on a terminal (log.format auto: text there, JSON lines elsewhere); default: only process stderr's own. */
  logIsTerminal?: boolean;
  /** The admin password for the first start; default $SLIPWAY_ADMIN_PASSWORD, else generated. */
  adminPassword?: string;
  env?: NodeJS.ProcessEnv;
  /** The engine's clock; default the system clock (tests move it to age certificates). */
  clock?: Clock;
}

export interface RunningControlPlane {
  url: string;
  /** The URL agents dial (api.advertise_url, or the one kept from an earlier start while VMs exist). */
  advertiseUrl: string;
  /** Where the encryption keys are (outside the home). */
  keysDir: string;
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
    return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string })
      .version;
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
  const lock = HomeLock.acquire(home, 'slipway up');
  try {
    return await startLocked(home, lock, options, env);
  } catch (e) {
    lock.release();
    throw e;
  }
}

async function startLocked(
  home: string,
  lock: HomeLock,
  options: ControlPlaneOptions,
  env: NodeJS.ProcessEnv,
): Promise<RunningControlPlane> {
  const explicitConfig = options.configPath || env.SLIPWAY_CONFIG || undefined;
  const configPath = resolve(explicitConfig ?? join(home, 'slipway.yaml'));
  if (!existsSync(configPath)) {
    if (explicitConfig)
      throw new SlipwayError('InvalidConfig', `config file ${configPath} does not exist`, {
        hint: 'Pass an existing file, or omit --config to use $SLIPWAY_HOME/slipway.yaml.',
      });
    await writeFile(configPath, DEFAULT_CONFIG_YAML, { mode: 0o600 });
  }
  const raw = parseConfigText(await readFile(configPath, 'utf8'), configPath) as Record<string, any>;
  const portOverride =
    options.port ?? (env.SLIPWAY_PORT !== undefined && env.SLIPWAY_PORT !== '' ? Number(env.SLIPWAY_PORT) : undefined);
  if (portOverride !== undefined) raw.api = { ...(raw.api ?? {}), port: portOverride };
  const { config, errors } = validateConfig(raw);
  if (!config)
    throw new SlipwayError('InvalidConfig', `${configPath} is invalid:\n  ${errors.join('\n  ')}`, {
      details: { errors },
    });

  const sink = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  // `auto` writes JSON for a service manager or container (stderr not a terminal); a caller's own sink gets text.
  const logger = controlPlaneLogger(
    sink,
    config,
    env,
    options.logIsTerminal ?? (options.log !== undefined || Boolean(process.stderr.isTTY)),
  );
  // Checked before anything starts: a bad value refuses the start, a low one is said out loud.
  let weakHashing: string | undefined;
  try {
    weakHashing = weakPasswordHashing(env);
  } catch (e) {
    throw new SlipwayError('InvalidConfig', (e as Error).message, {
      hint: "Unset it to hash passwords at OWASP's cost (17).",
    });
  }
  if (weakHashing) logger.warn(weakHashing);
  const keysDir = resolve(options.keysDir || env.SLIPWAY_KEYS || defaultKeysDir(home));
  const engine: Engine = await openEngine({
    home,
    config,
    configPath,
    logger,
    version: VERSION,
    keysDir,
    clock: options.clock,
    env,
  });

  // Requests that arrive while the engine finishes starting get a clear 503.
  let listener: ReturnType<typeof getRequestListener> = async (_req, res) => {
    res.writeHead(503, { 'content-type': 'application/problem+json', 'retry-after': '1' });
    res.end(
      JSON.stringify({
        type: 'https://slipway.dev/errors/Retryable',
        title: 'Retryable',
        status: 503,
        code: 'Retryable',
        detail: 'Slipway is starting',
        hint: 'Retry in a second.',
      }),
    );
  };
  const server: Server = createServer(
    {
      cert: engine.tls.cert,
      key: engine.tls.key,
      // Agents present client certificates from the agent CA; users present none and use bearer tokens.
      ca: [engine.tls.agentCaPem],
      requestCert: true,
      rejectUnauthorized: false,
      keepAliveTimeout: 65_000,
      // How often node looks for connections past headersTimeout/requestTimeout (default 30 s): a slow-body
      // client is closed within a second of its bound.
      connectionsCheckingInterval: 1000,
    },
    (req, res) => listener(req, res),
  );
  // A renewed serving certificate (certificates.renew_before_days) is served to new connections at once.
  engine.servingCertificate.onRenewed(({ cert, key }) =>
    server.setSecureContext({ cert, key, ca: [engine.tls.agentCaPem] }),
  );
  // A client has this long to send its headers, and its whole request; a trickled body is cut off there.
  // Node stops counting once the request is received, so the agent channel's long-held answers are not cut.
  server.headersTimeout = config.api.headers_timeout_seconds * 1000;
  server.requestTimeout = config.api.request_timeout_seconds * 1000;
  // Every raw socket, from accept on: `closeAllConnections` knows only those that reached HTTP, and a socket
  // still in its TLS handshake when the server stops would otherwise keep `close` waiting for a whole long poll.
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  try {
    await new Promise<void>((ok, fail) => {
      server.once('error', fail);
      server.listen(config.api.port, config.api.bind, () => {
        server.off('error', fail);
        ok();
      });
    });
  } catch (e) {
    await engine.close();
    const err = e as NodeJS.ErrnoException;
    throw new SlipwayError(
      'InvalidConfig',
      `cannot listen on ${config.api.bind}:${config.api.port}: ${err.code ?? err.message}`,
      {
        cause: e,
        field: 'api.port',
        hint:
          err.code === 'EADDRINUSE'
            ? 'Another process uses the port: stop it, or pass --port N.'
            : 'Check api.bind and api.port.',
      },
    );
  }
  const port = (server.address() as AddressInfo).port;
  const host = config.api.bind === '0.0.0.0' ? '127.0.0.1' : config.api.bind;
  const url = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const advertised = await chooseAdvertiseUrl(engine.store, config, url);
  if (advertised.previous)
    logger.warn('api.advertise_url changed: agents of VMs created before keep dialing the URL they booted with', {
      previous: advertised.previous,
      now: advertised.url,
    });
  // Agents of existing VMs dial the URL they booted with; when that is on this machine but not this
  // listener (a restart on another port), serve it too rather than let them go silent and be resurrected.
  // Replicas on a shared store sit behind a balancer: a configured URL is the balancer's to route, even on
  // this machine, and serving it here would take the balancer's own port.
  const replicated = engine.store.location.dialect === 'postgres' && advertised.source === 'config';
  const reach = replicated
    ? { kind: 'elsewhere' as const }
    : reachOf(advertised.url, config, { host: config.api.bind, port });
  let agentServer: NetServer | undefined;
  const refuse = async (message: string, hint: string, cause?: unknown): Promise<never> => {
    await Promise.all([server, agentServer].map((s) => s?.listening && new Promise<void>((ok) => s.close(() => ok()))));
    await engine.close();
    throw new SlipwayError('Conflict', message, { cause, field: 'api.advertise_url', hint });
  };
  if (reach.kind === 'elsewhere' && advertised.source === 'previous') {
    await refuse(
      `agents of existing VMs dial ${advertised.url} (the URL of an earlier start), which this start does not serve: it listens on ${url}`,
      `Start on the old address (api.bind), or, if something routes ${advertised.url} to this control plane, set api.advertise_url: ${advertised.url}.`,
    );
  }
  if (reach.kind === 'serve') {
    // Connections accepted there are handed to the main server: same TLS, limits and timeouts.
    agentServer = createNetServer((socket) => server.emit('connection', socket));
    const extra = agentServer;
    try {
      await new Promise<void>((ok, fail) => {
        extra.once('error', fail);
        extra.listen(reach.port, reach.host, () => {
          extra.off('error', fail);
          ok();
        });
      });
      logger.info('also serving the URL agents of existing VMs dial', { advertise_url: advertised.url });
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      await refuse(
        `agents of existing VMs dial ${advertised.url} (advertised when they were created); this start listens on ${url} and cannot also listen on ${reach.host}:${reach.port}: ${err.code ?? err.message}`,
        `Free port ${reach.port} or start on it (--port ${reach.port}); or set api.advertise_url to a URL that reaches this control plane (a load balancer or NAT rule).`,
        e,
      );
    }
  }
  const services = await engine.start(advertised.url);
  const admin = await services.auth.ensureAdmin(options.adminPassword ?? env.SLIPWAY_ADMIN_PASSWORD);
  const adminPassword = admin.generatedPassword;
  const credentialApi = await engine.plugins.credentials.httpApi?.({
    url: advertised.url,
    version: VERSION,
    async authenticate(token) {
      const principal = await services.auth.authenticate(token);
      return { actor: userActor(principal), roles: principal.roles };
    },
  });
  const scrapeToken = await readScrapeToken(config.metrics?.scrape_token_file, dirname(configPath));
  const app = createApp({
    services,
    engine,
    version: VERSION,
    pluginApis: credentialApi ? [credentialApi] : [],
    logger,
    scrapeToken,
  });
  // Expired tokens are deleted at start and every hour; a failure here never stops the API.
  const prune = () =>
    services.auth.pruneExpiredTokens().then(
      (n) => {
        if (n) logger.info('expired tokens pruned', { count: n });
      },
      (e) => logger.warn('token pruning failed', { error: String(e) }),
    );
  await prune();
  const pruneTimer = setInterval(prune, 3_600_000);
  pruneTimer.unref();
  listener = getRequestListener(app.fetch);
  logger.info(`slipway ${VERSION} listening`, {
    url,
    advertise_url: advertised.url,
    home,
    config: configPath,
    plugins: engine.plugins.loaded.map((p) => `${p.name}@${p.version}`).join(','),
  });

  let stopped: Promise<void> | undefined;
  return {
    url,
    advertiseUrl: advertised.url,
    keysDir,
    caPath: engine.caPath,
    configPath,
    home,
    adminPassword,
    firstStart: admin.created,
    version: VERSION,
    stop() {
      stopped ??= (async () => {
        clearInterval(pruneTimer);
        await Promise.all([
          new Promise<void>((ok) => (agentServer ? agentServer.close(() => ok()) : ok())),
          new Promise<void>((ok) => {
            server.close(() => ok());
            server.closeAllConnections(); // the connections agentServer handed over too
            for (const socket of sockets) socket.destroy();
          }),
        ]);
        await engine.close();
        lock.release();
      })();
      return stopped;
    },
  };
}

/** The metrics scrape token (metrics.scrape_token_file), relative to slipway.yaml's directory. */
async function readScrapeToken(file: string | undefined, configDir: string): Promise<string | undefined> {
  if (!file) return undefined;
  let text: string;
  try {
    text = await readFile(resolve(configDir, file), 'utf8');
  } catch (e) {
    throw new SlipwayError(
      'InvalidConfig',
      `metrics.scrape_token_file: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      {
        field: 'metrics.scrape_token_file',
        hint: 'Write a random token of at least 32 characters to that file (e.g. openssl rand -hex 32 > FILE).',
      },
    );
  }
  const token = text.trim();
  if (token.length < 32 || /\s/.test(token)) {
    throw new SlipwayError(
      'InvalidConfig',
      `metrics.scrape_token_file: the token in ${file} must be one line of at least 32 characters without spaces`,
      { field: 'metrics.scrape_token_file', hint: 'openssl rand -hex 32 > FILE' },
    );
  }
  return token;
}

/** log.* in slipway.yaml: JSON lines (pino) for collectors, short text lines on a terminal. */
function controlPlaneLogger(
  sink: (line: string) => void,
  config: SlipwayConfig,
  env: NodeJS.ProcessEnv,
  human: boolean,
): Logger {
  const levels = ['debug', 'info', 'warn', 'error'] as const;
  const fromEnv = levels.find((l) => l === env.SLIPWAY_LOG_LEVEL);
  const level = fromEnv ?? config.log?.level ?? 'info';
  const format = config.log?.format ?? 'auto';
  if (format === 'json' || (format === 'auto' && !human)) return JsonLogger.create(sink, level);
  return new LineLogger(sink, level);
}
