import { randomBytes } from 'node:crypto';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { createKeyAndRequest, defaultJobsFor } from '@slipway/agent';
import {
  SlipwayError,
  type AgentBootstrapRequest,
  type AgentCertificateGrant,
  type AgentSettings,
  type DesiredState,
  type Heartbeat,
} from '@slipway/contracts';
import { createRecorderPki, type RecorderPki } from './recorder-pki.js';

/** One request the recorder answered, for tests that look at the channel itself. */
export interface RecordedSync {
  /** `sync`, `bootstrap` or `renew`. */
  route: 'sync' | 'bootstrap' | 'renew' | 'other';
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
 * A small agent-channel server standing in for the control plane in driver and agent tests. It has its
 * own CA, hands each agent a one-time bootstrap token (`settingsFor`) and signs the CSR the agent sends
 * with it, as the control plane does; answers syncs (mTLS, certificates it signed and did not revoke) with
 * desired state `running` and the agent group's default jobs, holds long polls as agent-protocol.md allows,
 * and records heartbeats. Listens on 127.0.0.1 only.
 */
export class AgentChannelRecorder {
  /** Every answered request, oldest first. */
  readonly syncs: RecordedSync[] = [];
  private readonly agents = new Map<string, KnownAgent>();
  private readonly held = new Set<HeldPoll>();
  private readonly waiters = new Set<HeartbeatWaiter>();
  /** Bootstrap tokens handed out, by token: whose, and whether used. */
  private readonly tokens = new Map<string, { agentId: string; used: boolean }>();
  /** Certificates signed, by serial. */
  private readonly certificates = new Map<string, { agentId: string; revoked: boolean }>();
  /** Lifetime in days of the certificates it signs (fractional for renewal tests). */
  certificateDays = 2;
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
    if (address === null || typeof address === 'string')
      throw new SlipwayError('Internal', 'the recorder has no TCP address');
    const recorder = new AgentChannelRecorder(
      server,
      pki,
      `https://127.0.0.1:${address.port}`,
      options.heartbeatIntervalMs ?? 1_000,
    );
    server.on('request', (req: IncomingMessage, res: ServerResponse) => recorder.handle(req, res));
    return recorder;
  }

  /** PEM of the CA that signed the recorder's serving certificate and the agents' client certificates. */
  get caPem(): string {
    return this.pki.caPem;
  }

  /**
   * Full AgentSettings for a VM whose agent should report here: a fresh one-time bootstrap token for
   * `agentId`, and the agent registered (a sync from an agent never registered, or forgotten, gets 404).
   */
  async settingsFor(agentId: string, overrides: Partial<AgentSettings> = {}): Promise<AgentSettings> {
    const token = `recorder-bootstrap.${randomBytes(32).toString('base64url')}`;
    this.tokens.set(token, { agentId, used: false });
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
      bootstrap: overrides.bootstrap ?? { token, expiresAt: new Date(Date.now() + 3_600_000).toISOString() },
    };
    const known = this.agents.get(agentId);
    this.agents.set(agentId, {
      settings,
      desired: known?.desired ?? { generation: 1, state: 'running', jobs: defaultJobsFor(settings.group) },
      heartbeats: known?.heartbeats ?? [],
    });
    return settings;
  }

  /**
   * A client certificate and key for `agentId`, made as an agent makes them (key and CSR here, signed by the
   * recorder's CA), for tests that talk to the channel without an agent.
   */
  async credentialsFor(agentId: string): Promise<{ certPem: string; keyPem: string; serial: string }> {
    const { keyPem, csrPem } = await createKeyAndRequest(agentId);
    const signed = await this.pki.signRequest(csrPem, agentId, this.certificateDays);
    this.certificates.set(signed.serial, { agentId, revoked: false });
    return { certPem: signed.certPem, keyPem, serial: signed.serial };
  }

  /** Refuses every certificate signed for `agentId` so far (its VM was replaced): its syncs get 401. */
  revoke(agentId: string): void {
    for (const certificate of this.certificates.values())
      if (certificate.agentId === agentId) certificate.revoked = true;
    this.release(agentId);
  }

  /** Serials signed for `agentId`, oldest first. */
  serialsOf(agentId: string): string[] {
    return [...this.certificates].filter(([, c]) => c.agentId === agentId).map(([serial]) => serial);
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
        reject(
          new SlipwayError(
            'Timeout',
            `no matching sync from agent ${agentId} within ${timeoutMs} ms; ${this.describeSeen(agentId)}`,
          ),
        );
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
    if (!agent)
      throw new SlipwayError(
        'NotFound',
        `the recorder does not know agent ${agentId}; call settingsFor(${JSON.stringify(agentId)}) first`,
      );
    return agent;
  }

  private release(agentId: string): void {
    for (const poll of [...this.held]) if (poll.agentId === agentId) poll.release();
  }

  private describeSeen(agentId: string): string {
    const fromAgents = new Set(this.syncs.map((s) => s.agentId).filter((id): id is string => id !== undefined));
    const refused = this.syncs.filter((s) => s.status === 401 && s.route !== 'bootstrap').length;
    const bootstrapRefused = this.syncs.filter(
      (s) => s.status === 401 && s.route === 'bootstrap' && s.agentId === agentId,
    ).length;
    const known = this.agents.has(agentId) ? 'it is registered' : 'it was never registered through settingsFor()';
    const seen =
      fromAgents.size > 0
        ? `syncs seen from ${[...fromAgents].slice(0, 10).join(', ')}${fromAgents.size > 10 ? '...' : ''}`
        : 'no syncs seen from any agent';
    const bootstrap =
      bootstrapRefused > 0 ? `; ${bootstrapRefused} bootstraps of ${agentId} refused (bad, used or foreign token)` : '';
    return `${known}; ${seen}${refused > 0 ? `; ${refused} requests refused for a missing, untrusted or revoked client certificate` : ''}${bootstrap}`;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', this.url);
    const waitMs = Number(url.searchParams.get('wait') ?? 0) || 0;
    const generation = Number(url.searchParams.get('generation') ?? 0) || 0;
    const socket = req.socket as TLSSocket;
    const peer = socket.authorized ? peerOf(socket) : undefined;
    const known = peer ? this.certificates.get(peer.serial) : undefined;
    const cn = known && !known.revoked && known.agentId === peer?.cn ? peer?.cn : undefined;
    const route = req.method === 'POST' && Object.hasOwn(ROUTES, url.pathname) ? ROUTES[url.pathname]! : 'other';
    const record = (agentId: string | undefined, status: number): void => {
      this.syncs.push({ route, agentId, status, waitMs, generation, at: Date.now() });
    };
    if (route === 'other') {
      record(cn, 404);
      return reply(res, 404, { error: { code: 'NotFound', message: `no route ${req.method} ${url.pathname}` } });
    }
    if (route === 'bootstrap') return this.bootstrap(req, res, record);
    if (!cn) {
      record(undefined, 401);
      return reply(res, 401, {
        error: { code: 'Unauthenticated', message: 'a client certificate signed by the control plane CA is required' },
      });
    }
    if (route === 'renew') return this.renew(req, res, cn, record);
    readJson(req).then(
      (body) => {
        const heartbeat = body as Heartbeat;
        if (!heartbeat || heartbeat.agentId !== cn) {
          record(cn, 401);
          return reply(res, 401, {
            error: {
              code: 'Unauthenticated',
              message: `the heartbeat names agent ${heartbeat?.agentId} but the certificate is for ${cn}`,
            },
          });
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
      },
      () => {
        record(cn, 400);
        reply(res, 400, { error: { code: 'InvalidInput', message: 'the body is not a JSON heartbeat' } });
      },
    );
  }

  private bootstrap(
    req: IncomingMessage,
    res: ServerResponse,
    record: (agentId: string | undefined, status: number) => void,
  ): void {
    readJson(req)
      .then(async (body) => {
        const { agentId, token, csr } = (body ?? {}) as Partial<AgentBootstrapRequest>;
        const issued = typeof token === 'string' ? this.tokens.get(token) : undefined;
        if (!issued || issued.used || issued.agentId !== agentId || typeof csr !== 'string') {
          record(agentId, 401);
          return reply(res, 401, {
            code: 'Unauthenticated',
            detail: `the bootstrap token is not valid for agent ${agentId}`,
          });
        }
        const grant = await this.sign(csr, agentId);
        issued.used = true;
        record(agentId, 200);
        reply(res, 200, grant);
      })
      .catch((error: unknown) => {
        record(undefined, 400);
        reply(res, 400, { code: 'InvalidInput', detail: error instanceof Error ? error.message : String(error) });
      });
  }

  private renew(
    req: IncomingMessage,
    res: ServerResponse,
    agentId: string,
    record: (agentId: string | undefined, status: number) => void,
  ): void {
    readJson(req)
      .then(async (body) => {
        const grant = await this.sign(String((body as { csr?: unknown } | null)?.csr ?? ''), agentId);
        record(agentId, 200);
        reply(res, 200, grant);
      })
      .catch((error: unknown) => {
        record(agentId, 400);
        reply(res, 400, { code: 'InvalidInput', detail: error instanceof Error ? error.message : String(error) });
      });
  }

  private async sign(csrPem: string, agentId: string): Promise<AgentCertificateGrant> {
    const signed = await this.pki.signRequest(csrPem, agentId, this.certificateDays);
    this.certificates.set(signed.serial, { agentId, revoked: false });
    return {
      certificate: signed.certPem,
      serial: signed.serial,
      notBefore: signed.notBefore.toISOString(),
      notAfter: signed.notAfter.toISOString(),
    };
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

const ROUTES: Record<string, RecordedSync['route']> = {
  '/agent/v1/sync': 'sync',
  '/agent/v1/bootstrap': 'bootstrap',
  '/agent/v1/renew': 'renew',
};

function peerOf(socket: TLSSocket): { cn: string; serial: string } | undefined {
  const certificate = socket.getPeerCertificate();
  const subject = certificate?.subject as Record<string, string | string[]> | undefined;
  const cn = Array.isArray(subject?.CN) ? subject.CN[0] : subject?.CN;
  if (!cn || !certificate.serialNumber) return undefined;
  return { cn, serial: certificate.serialNumber.toUpperCase() };
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
