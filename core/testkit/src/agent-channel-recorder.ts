import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { defaultJobsFor } from '@slipway/agent';
import { SlipwayError, type AgentSettings, type DesiredState, type Heartbeat } from '@slipway/contracts';
import { createRecorderPki, type RecorderPki } from './recorder-pki.js';

/** One request the recorder answered, for tests that look at the channel itself. */
export interface RecordedSync {
  agentId: string | undefined;
  status: number;
  waitMs: number;
  generation: number;
  at: number;
}

interface KnownAgent {
  settings: AgentSettings;
  desired: DesiredState;
  heartbeats: Heartbeat[];
}

interface HeldPoll {
  agentId: string;
  release(): void;
}

interface HeartbeatWaiter {
  agentId: string;
  accept(heartbeat: Heartbeat): boolean;
}

/**
 * A small mTLS agent-channel server standing in for the control plane in driver and agent tests. It has its
 * own CA, issues each agent's client certificate (`settingsFor`), answers syncs with desired state `running`
 * and the agent group's default jobs, holds long polls as agent-protocol.md allows, and records heartbeats.
 * Listens on 127.0.0.1 only.
 */
export class AgentChannelRecorder {
  /** Every answered request, oldest first. */
  readonly syncs: RecordedSync[] = [];
  private readonly agents = new Map<string, KnownAgent>();
  private readonly held = new Set<HeldPoll>();
  private readonly waiters = new Set<HeartbeatWaiter>();
  private stopping: Promise<void> | undefined;

  private constructor(
    private readonly server: https.Server,
    private readonly pki: RecorderPki,
    readonly url: string,
    private readonly defaultHeartbeatIntervalMs: number,
  ) {}

  /** Starts a recorder on 127.0.0.1 with a fresh CA. `heartbeatIntervalMs` is what settingsFor hands out (default 1000). */
  static async start(options: { heartbeatIntervalMs?: number } = {}): Promise<AgentChannelRecorder> {
    const pki = await createRecorderPki();
    const server = https.createServer({
      key: pki.server.keyPem,
      cert: pki.server.certPem,
      ca: [pki.caPem],
      requestCert: true,
      // Checked per request instead, so a client without a certificate gets the protocol's 401, not a TLS alert.
      rejectUnauthorized: false,
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new SlipwayError('Internal', 'the recorder has no TCP address');
    const recorder = new AgentChannelRecorder(server, pki, `https://127.0.0.1:${address.port}`, options.heartbeatIntervalMs ?? 1_000);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => recorder.handle(req, res));
    return recorder;
  }

  /** PEM of the CA that signed the recorder's serving certificate and the agents' client certificates. */
  get caPem(): string {
    return this.pki.caPem;
  }

  /**
   * Full AgentSettings for a VM whose agent should report here: issues its client certificate (ECDSA, CN =
   * agentId) and registers the agent (a sync from an agent never registered, or forgotten, gets 404).
   */
  async settingsFor(agentId: string, overrides: Partial<AgentSettings> = {}): Promise<AgentSettings> {
    const tls = await this.pki.issueClient(agentId);
    const settings: AgentSettings = {
      agentId,
      clusterId: 'conformance',
      instanceId: `instance-${agentId}`,
      group: 'worker',
      index: 0,
      network: { ip: '10.0.0.10' },
      heartbeatIntervalMs: this.defaultHeartbeatIntervalMs,
      ...overrides,
      controlPlane: { url: this.url, caPem: this.pki.caPem, ...overrides.controlPlane },
      tls: overrides.tls ?? tls,
    };
    const known = this.agents.get(agentId);
    this.agents.set(agentId, {
      settings,
      desired: known?.desired ?? { generation: 1, state: 'running', jobs: defaultJobsFor(settings.group) },
      heartbeats: known?.heartbeats ?? [],
    });
    return settings;
  }

  /** Changes what an agent is told to do (a new generation); held long polls of that agent return at once. */
  setDesired(agentId: string, change: Partial<Omit<DesiredState, 'generation'>>): DesiredState {
    const agent = this.known(agentId);
    agent.desired = { ...agent.desired, ...change, generation: agent.desired.generation + 1 };
    this.release(agentId);
    return agent.desired;
  }

  desiredFor(agentId: string): DesiredState {
    return this.known(agentId).desired;
  }

  /** The control plane forgets the agent (its VM was deleted): its syncs get 404 from now on. */
  forget(agentId: string): void {
    this.agents.delete(agentId);
    this.release(agentId);
  }

  /** Long polls of `agentId` the recorder is holding now. */
  heldPolls(agentId: string): number {
    return [...this.held].filter((poll) => poll.agentId === agentId).length;
  }

  /** Heartbeats received from an agent, oldest first. */
  heartbeats(agentId: string): Heartbeat[] {
    return [...(this.agents.get(agentId)?.heartbeats ?? [])];
  }

  lastHeartbeat(agentId: string): Heartbeat | undefined {
    return this.agents.get(agentId)?.heartbeats.at(-1);
  }

  /** The agent's latest heartbeat, or the next one if it has not synced yet. */
  waitForSync(agentId: string, timeoutMs = 10_000): Promise<Heartbeat> {
    return this.waitForHeartbeat(agentId, () => true, timeoutMs);
  }

  /**
   * The first heartbeat of `agentId` that satisfies `accept`, looking at the latest one and then at each new
   * one. Rejects with `Timeout`, saying what the recorder did see, after `timeoutMs` (default 10 000).
   */
  waitForHeartbeat(agentId: string, accept: (heartbeat: Heartbeat) => boolean, timeoutMs = 10_000): Promise<Heartbeat> {
    const latest = this.lastHeartbeat(agentId);
    if (latest && accept(latest)) return Promise.resolve(latest);
    return new Promise((resolve, reject) => {
      const waiter: HeartbeatWaiter = {
        agentId,
        accept: (heartbeat) => {
          if (!accept(heartbeat)) return false;
          clearTimeout(timer);
          resolve(heartbeat);
          return true;
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new SlipwayError('Timeout', `no matching sync from agent ${agentId} within ${timeoutMs} ms; ${this.describeSeen(agentId)}`));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  /** Ends held polls and closes every connection. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      for (const poll of [...this.held]) poll.release();
      await new Promise<void>((resolve) => {
        this.server.close(() => resolve());
        this.server.closeAllConnections();
      });
    })();
    return this.stopping;
  }

  private known(agentId: string): KnownAgent {
    const agent = this.agents.get(agentId);
    if (!agent) throw new SlipwayError('NotFound', `the recorder does not know agent ${agentId}; call settingsFor(${JSON.stringify(agentId)}) first`);
    return agent;
  }

  private release(agentId: string): void {
    for (const poll of [...this.held]) if (poll.agentId === agentId) poll.release();
  }

  private describeSeen(agentId: string): string {
    const fromAgents = new Set(this.syncs.map((s) => s.agentId).filter((id): id is string => id !== undefined));
    const refused = this.syncs.filter((s) => s.status === 401).length;
    const known = this.agents.has(agentId) ? 'it is registered' : 'it was never registered through settingsFor()';
    const seen = fromAgents.size > 0 ? `syncs seen from ${[...fromAgents].slice(0, 10).join(', ')}${fromAgents.size > 10 ? '...' : ''}` : 'no syncs seen from any agent';
    return `${known}; ${seen}${refused > 0 ? `; ${refused} requests refused for a missing or untrusted client certificate` : ''}`;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', this.url);
    const waitMs = Number(url.searchParams.get('wait') ?? 0) || 0;
    const generation = Number(url.searchParams.get('generation') ?? 0) || 0;
    const socket = req.socket as TLSSocket;
    const cn = socket.authorized ? commonName(socket) : undefined;
    const record = (agentId: string | undefined, status: number): void => {
      this.syncs.push({ agentId, status, waitMs, generation, at: Date.now() });
    };
    if (req.method !== 'POST' || url.pathname !== '/agent/v1/sync') {
      record(cn, 404);
      return reply(res, 404, { error: { code: 'NotFound', message: `no route ${req.method} ${url.pathname}` } });
    }
    if (!cn) {
      record(undefined, 401);
      return reply(res, 401, { error: { code: 'Unauthenticated', message: 'a client certificate signed by the control plane CA is required' } });
    }
    readJson(req).then((body) => {
      const heartbeat = body as Heartbeat;
      if (!heartbeat || heartbeat.agentId !== cn) {
        record(cn, 401);
        return reply(res, 401, { error: { code: 'Unauthenticated', message: `the heartbeat names agent ${heartbeat?.agentId} but the certificate is for ${cn}` } });
      }
      const agent = this.agents.get(cn);
      if (!agent) {
        record(cn, 404);
        return reply(res, 404, { error: { code: 'NotFound', message: `agent ${cn} is not known` } });
      }
      agent.heartbeats.push(heartbeat);
      for (const waiter of [...this.waiters]) {
        if (waiter.agentId === cn && waiter.accept(heartbeat)) this.waiters.delete(waiter);
      }
      const answer = (): void => {
        const current = this.agents.get(cn);
        if (!current) {
          record(cn, 404);
          return reply(res, 404, { error: { code: 'NotFound', message: `agent ${cn} is not known` } });
        }
        record(cn, 200);
        reply(res, 200, { desired: current.desired, heartbeatIntervalMs: current.settings.heartbeatIntervalMs });
      };
      if (waitMs > 0 && generation === agent.desired.generation && !this.stopping) {
        this.hold(cn, waitMs, res, answer);
      } else {
        answer();
      }
    }, () => {
      record(cn, 400);
      reply(res, 400, { error: { code: 'InvalidInput', message: 'the body is not a JSON heartbeat' } });
    });
  }

  /** Holds a long poll until the desired state changes, `waitMs` passes, the client leaves, or stop(). */
  private hold(agentId: string, waitMs: number, res: ServerResponse, answer: () => void): void {
    const poll: HeldPoll = {
      agentId,
      release: () => {
        if (!this.held.delete(poll)) return;
        clearTimeout(timer);
        res.off('close', onClose);
        if (!res.writableEnded && !res.destroyed) answer();
      },
    };
    const timer = setTimeout(poll.release, waitMs);
    const onClose = (): void => {
      this.held.delete(poll);
      clearTimeout(timer);
    };
    res.on('close', onClose);
    this.held.add(poll);
  }
}

function commonName(socket: TLSSocket): string | undefined {
  const subject = socket.getPeerCertificate()?.subject as Record<string, string | string[]> | undefined;
  const cn = subject?.CN;
  return Array.isArray(cn) ? cn[0] : cn;
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  if (res.writableEnded || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('error', reject);
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch (error) {
        reject(error);
      }
    });
  });
}
