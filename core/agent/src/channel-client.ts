import https from 'node:https';
import {
  SlipwayError,
  type AgentCertificateGrant,
  type AgentSettings,
  type DesiredState,
  type Heartbeat,
} from '@slipway/contracts';
import type { AgentCredentials } from './identity/identity-store.js';

/** The control plane's answer to a sync. */
export interface SyncReply {
  desired: DesiredState;
  heartbeatIntervalMs: number;
}

export interface SyncRequest {
  heartbeat: Heartbeat;
  /** How long the server may hold the answer when nothing changed (the long poll). 0: answer at once. */
  waitMs: number;
  /** The desired generation the agent holds; the server holds the poll only while it is current. */
  generation: number;
  signal: AbortSignal;
}

/**
 * The agent's side of the agent channel (agent-protocol.md): POST /agent/v1/sync (and /agent/v1/renew) over
 * mutual TLS with the agent's current client certificate, one keep-alive connection reused across syncs.
 * Failures are SlipwayErrors: `Unauthenticated` (401), `NotFound` (404, the control plane does not know this
 * agent), `Retryable` (5xx, network), `Timeout`, `Cancelled` (the caller's signal fired).
 */
export class AgentChannel {
  private readonly agent: https.Agent;
  private readonly base: URL;

  constructor(
    settings: AgentSettings,
    credentials: Pick<AgentCredentials, 'certPem' | 'keyPem'>,
    private readonly options: { requestTimeoutMs: number },
  ) {
    this.base = new URL(settings.controlPlane.url);
    // TLS material sits on the agent so that pooled sockets are keyed by it.
    this.agent = new https.Agent({
      keepAlive: true,
      maxSockets: 1,
      cert: credentials.certPem,
      key: credentials.keyPem,
      ca: settings.controlPlane.caPem,
    });
  }

  async sync(request: SyncRequest): Promise<SyncReply> {
    const url = new URL('/agent/v1/sync', this.base);
    url.searchParams.set('wait', String(Math.max(0, Math.round(request.waitMs))));
    url.searchParams.set('generation', String(request.generation));
    const { status, body } = await postJson(
      this.agent,
      url,
      JSON.stringify(request.heartbeat),
      request.waitMs + this.options.requestTimeoutMs,
      request.signal,
    );
    if (status === 200) return parseReply(body);
    throw statusError(status, body, url);
  }

  /** Asks for a new certificate for the key of `csrPem`, authenticated by the current one. */
  async renew(csrPem: string, signal: AbortSignal): Promise<AgentCertificateGrant> {
    const url = new URL('/agent/v1/renew', this.base);
    const { status, body } = await postJson(
      this.agent,
      url,
      JSON.stringify({ csr: csrPem }),
      this.options.requestTimeoutMs,
      signal,
    );
    if (status === 200) return parseGrant(body, 'renewal');
    throw statusError(status, body, url);
  }

  /** Closes pooled connections; the channel is not used afterwards. */
  close(): void {
    this.agent.destroy();
  }
}

/**
 * `POST /agent/v1/bootstrap`: trades the one-time token and a CSR for a client certificate, over TLS that
 * authenticates only the server (the agent has no certificate yet).
 */
export async function requestBootstrap(
  settings: AgentSettings,
  csrPem: string,
  options: { requestTimeoutMs: number; signal: AbortSignal },
): Promise<AgentCertificateGrant> {
  const url = new URL('/agent/v1/bootstrap', settings.controlPlane.url);
  const agent = new https.Agent({ keepAlive: false, ca: settings.controlPlane.caPem });
  try {
    const payload = JSON.stringify({ agentId: settings.agentId, token: settings.bootstrap.token, csr: csrPem });
    const { status, body } = await postJson(agent, url, payload, options.requestTimeoutMs, options.signal);
    if (status === 200) return parseGrant(body, 'bootstrap');
    throw statusError(status, body, url, 'bootstrap');
  } finally {
    agent.destroy();
  }
}

function postJson(
  agent: https.Agent,
  url: URL,
  payload: string,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(cancelled(signal));
    let settled = false;
    const finish = (error: SlipwayError | undefined, result?: { status: number; body: string }): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      if (error) reject(error);
      else resolve(result!);
    };
    const request = https.request(
      url,
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(payload),
          accept: 'application/json',
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          finish(undefined, { status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
        response.on('error', (cause) => finish(unreachable(url, cause)));
      },
    );
    const onAbort = (): void => {
      finish(cancelled(signal));
      request.destroy();
    };
    const timer = setTimeout(() => {
      finish(new SlipwayError('Timeout', `no answer from ${url.origin} within ${timeoutMs} ms`));
      request.destroy();
    }, timeoutMs);
    signal.addEventListener('abort', onAbort, { once: true });
    request.on('error', (cause) => finish(unreachable(url, cause)));
    request.end(payload);
  });
}

function parseGrant(body: string, what: string): AgentCertificateGrant {
  let grant: Partial<AgentCertificateGrant> | null;
  try {
    grant = JSON.parse(body) as Partial<AgentCertificateGrant> | null;
  } catch (cause) {
    throw new SlipwayError('Retryable', `the control plane answered a ${what} with invalid JSON`, { cause });
  }
  if (!grant || typeof grant.certificate !== 'string' || !grant.certificate.includes('BEGIN CERTIFICATE')) {
    throw new SlipwayError('Retryable', `the control plane answered a ${what} without a certificate`, {
      details: { body: body.slice(0, 500) },
    });
  }
  return grant as AgentCertificateGrant;
}

function parseReply(body: string): SyncReply {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (cause) {
    throw new SlipwayError('Retryable', 'the control plane answered a sync with invalid JSON', { cause });
  }
  const reply = parsed as Partial<SyncReply> | null;
  const desired = reply?.desired;
  if (
    !desired ||
    typeof desired.generation !== 'number' ||
    !Array.isArray(desired.jobs) ||
    !['running', 'drained', 'stopped'].includes(desired.state) ||
    typeof reply.heartbeatIntervalMs !== 'number'
  ) {
    throw new SlipwayError('Retryable', 'the control plane answered a sync without a valid desired state', {
      details: { body: body.slice(0, 500) },
    });
  }
  return { desired, heartbeatIntervalMs: reply.heartbeatIntervalMs };
}

function statusError(status: number, body: string, url: URL, what: 'sync' | 'bootstrap' = 'sync'): SlipwayError {
  const details = { status, body: body.slice(0, 500) };
  if (what === 'bootstrap' && (status === 401 || status === 403)) {
    return new SlipwayError(
      'Unauthenticated',
      `the control plane at ${url.origin} refused this VM's bootstrap token (${status}): ${problemDetail(body)}`,
      { details, retryable: true },
    );
  }
  if (status === 400) {
    return new SlipwayError(
      'InvalidInput',
      `the control plane at ${url.origin} refused the request (400): ${problemDetail(body)}`,
      { details, retryable: true },
    );
  }
  if (status === 401 || status === 403) {
    return new SlipwayError(
      'Unauthenticated',
      `the control plane at ${url.origin} refused this agent's client certificate (${status})`,
      { details, retryable: true },
    );
  }
  if (status === 404) {
    return new SlipwayError(
      'NotFound',
      `the control plane at ${url.origin} does not know this agent (404); its VM may have been deleted`,
      { details, retryable: true },
    );
  }
  return new SlipwayError('Retryable', `the control plane at ${url.origin} answered ${status}`, { details });
}

function problemDetail(body: string): string {
  try {
    const problem = JSON.parse(body) as { detail?: unknown };
    if (typeof problem.detail === 'string') return problem.detail.slice(0, 300);
  } catch {
    // not JSON: the raw text says more than nothing
  }
  return body.slice(0, 300);
}

function unreachable(url: URL, cause: unknown): SlipwayError {
  const message = cause instanceof Error ? cause.message : String(cause);
  return new SlipwayError('Retryable', `cannot reach the control plane at ${url.origin}: ${message}`, { cause });
}

function cancelled(signal: AbortSignal): SlipwayError {
  return new SlipwayError('Cancelled', 'the sync was aborted', { cause: signal.reason });
}
