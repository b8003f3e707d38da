import type { TLSSocket } from 'node:tls';
import { Hono } from 'hono';
import { SlipwayError, type Heartbeat } from '@slipway/contracts';
import type { AgentRegistry } from '@slipway/engine';
import type { AppEnv } from '../context.js';
import { readJson } from '../validate.js';

/**
 * The agent channel. Agents authenticate with their per-VM client certificate, verified by the TLS layer
 * against the agent CA; the certificate's CN is the agent id.
 */
export function agentRoutes(agents: AgentRegistry) {
  const app = new Hono<AppEnv>();
  app.post('/agent/v1/sync', async (c) => {
    const socket = c.env?.incoming?.socket as TLSSocket | undefined;
    const peer = socket?.authorized ? socket.getPeerCertificate() : undefined;
    const agentId = peer?.subject?.CN;
    if (!agentId || typeof agentId !== 'string') {
      throw new SlipwayError('Unauthenticated', `the agent channel needs a client certificate from the agent CA${socket?.authorizationError ? ` (${String(socket.authorizationError)})` : ''}`);
    }
    const heartbeat = (await readJson(c.req.raw)) as Heartbeat;
    const wait = Number(c.req.query('wait') ?? 0);
    const generation = c.req.query('generation');
    const result = await agents.sync(agentId, heartbeat, Number.isFinite(wait) ? wait : 0, generation === undefined ? undefined : Number(generation), c.req.raw.signal);
    return c.json(result);
  });
  return app;
}
