import type { TLSSocket } from 'node:tls';
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { SlipwayError, type AgentBootstrapRequest, type AgentRenewRequest, type Heartbeat } from '@slipway/contracts';
import type { AgentBootstrap, AgentPeer, AgentRegistry } from '@slipway/engine';
import { validateAgentBody } from '../agent-schemas.js';
import type { AppEnv } from '../context.js';
import { problemResponse } from '../problem.js';
import { readJson } from '../validate.js';

/** A CSR and a token fit in 4 KiB; nothing an agent sends to bootstrap or renew needs more than 16. */
export const AGENT_IDENTITY_BODY_LIMIT = 16 * 1024;
/** A heartbeat of a master (a dozen jobs with their processes and reasons) is a few KiB. */
export const AGENT_SYNC_BODY_LIMIT = 256 * 1024;

/** Bootstrap and renewal check a token or a certificate and sign one certificate: milliseconds, not minutes. */
export const AGENT_IDENTITY_TIMEOUT_MS = 30_000;
/** The longest long poll the registry holds (5 min) and a minute of slack. */
export const AGENT_SYNC_TIMEOUT_MS = 6 * 60_000;

/** Answers `Timeout` (504) when the handler has not answered within `ms`. */
function deadline(ms: number): MiddlewareHandler<AppEnv> {
  return async (_c, next) => {
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(
        () => reject(new SlipwayError('Timeout', `the agent channel did not answer within ${ms} ms`)),
        ms,
      );
    });
    try {
      await Promise.race([next(), expired]);
    } finally {
      clearTimeout(timer);
    }
  };
}

function limit(maxSize: number) {
  return bodyLimit({
    maxSize,
    onError: (c) =>
      problemResponse(
        c,
        new SlipwayError('InvalidInput', `the request body is larger than ${maxSize} bytes, the limit of agent routes`),
      ),
  });
}

/**
 * The agent channel. `POST /agent/v1/bootstrap` needs no client certificate (server-auth TLS only): a new
 * VM trades its one-time token and a CSR for its certificate. Everything else needs the client certificate
 * the TLS layer verified against the agent CA, whose CN is the agent id and whose serial the engine checks
 * (recorded, active, not expired, its VM not replaced).
 */
export function agentRoutes(agents: AgentRegistry, bootstrap: AgentBootstrap) {
  const app = new Hono<AppEnv>();

  app.post('/agent/v1/bootstrap', deadline(AGENT_IDENTITY_TIMEOUT_MS), limit(AGENT_IDENTITY_BODY_LIMIT), async (c) => {
    const body = validateAgentBody<AgentBootstrapRequest>('AgentBootstrapRequest', await readJson(c.req.raw));
    return c.json(await bootstrap.bootstrap(body, remoteAddress(c)));
  });

  app.post('/agent/v1/renew', deadline(AGENT_IDENTITY_TIMEOUT_MS), limit(AGENT_IDENTITY_BODY_LIMIT), async (c) => {
    const peer = peerOf(c);
    const body = validateAgentBody<AgentRenewRequest>('AgentRenewRequest', await readJson(c.req.raw));
    return c.json(await bootstrap.renew(peer, body.csr, remoteAddress(c)));
  });

  app.post('/agent/v1/sync', deadline(AGENT_SYNC_TIMEOUT_MS), limit(AGENT_SYNC_BODY_LIMIT), async (c) => {
    const peer = peerOf(c);
    const wait = nonNegativeInteger(c.req.query('wait'), 'wait') ?? 0;
    const generation = nonNegativeInteger(c.req.query('generation'), 'generation');
    await bootstrap.authenticate(peer, remoteAddress(c));
    const heartbeat = validateAgentBody<Heartbeat>('Heartbeat', await readJson(c.req.raw));
    const result = await agents.sync(peer.agentId, heartbeat, wait, generation, c.req.raw.signal);
    return c.json(result);
  });
  return app;
}

/** The verified client certificate of the request; `Unauthenticated` without one. */
function peerOf(c: Context<AppEnv>): AgentPeer {
  const socket = c.env?.incoming?.socket as TLSSocket | undefined;
  const peer = socket?.authorized ? socket.getPeerCertificate() : undefined;
  const agentId = peer?.subject?.CN;
  if (!peer || !agentId || typeof agentId !== 'string' || !peer.serialNumber) {
    throw new SlipwayError(
      'Unauthenticated',
      `the agent channel needs a client certificate from the agent CA${socket?.authorizationError ? ` (${String(socket.authorizationError)})` : ''}`,
    );
  }
  return { agentId, serial: peer.serialNumber.toUpperCase(), validFrom: peer.valid_from, validTo: peer.valid_to };
}

function remoteAddress(c: Context<AppEnv>): string | undefined {
  return c.env?.incoming?.socket?.remoteAddress;
}

function nonNegativeInteger(value: string | undefined, field: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,15}$/.test(value))
    throw new SlipwayError(
      'InvalidInput',
      `${field}: must be a non-negative integer (got ${JSON.stringify(value.slice(0, 40))})`,
      { field },
    );
  return Number(value);
}
