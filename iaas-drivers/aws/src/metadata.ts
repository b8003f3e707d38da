import { SlipwayError, decodeAgentSettings, type AgentSettings, type MetadataSource } from '@slipway/contracts';

const PLUGIN = '@slipway/iaas-aws';

/** The link-local address of the EC2 instance metadata service (IMDS) on every instance. */
export const EC2_METADATA_URL = 'http://169.254.169.254';

export interface Ec2MetadataOptions {
  /** IMDS root; a fake serves each instance's view under its own prefix. Default http://169.254.169.254. */
  baseUrl?: string;
  /** Lifetime asked for each session token, 1 to 21600 s. Default 21600 (six hours, the maximum). */
  tokenTtlSeconds?: number;
  /**
   * Bound on each IMDS request, in ms. Default 3000: IMDS answers in microseconds on an instance, and off EC2
   * the link-local address does not answer at all.
   */
  timeoutMs?: number;
}

/**
 * The agent's settings from the EC2 instance metadata service, IMDSv2 only: `PUT /latest/api/token` with
 * `X-aws-ec2-metadata-token-ttl-seconds` gives a session token, then `GET /latest/user-data` (the UserData the
 * driver gave RunInstances, served decoded: the settings JSON) and `/latest/meta-data/instance-id`, each with
 * `X-aws-ec2-metadata-token`. The driver launches instances with HttpTokens=required, so IMDSv1 never works.
 */
export class Ec2InstanceMetadataService implements MetadataSource {
  readonly kind = 'ec2-imds';
  private readonly base: string;
  private readonly ttlSeconds: number;
  private readonly timeoutMs: number;
  private token?: { value: string; expiresAt: number };

  constructor(options: Ec2MetadataOptions = {}) {
    this.base = (options.baseUrl ?? EC2_METADATA_URL).replace(/\/+$/, '');
    this.ttlSeconds = Math.min(21_600, Math.max(1, Math.floor(options.tokenTtlSeconds ?? 21_600)));
    this.timeoutMs = options.timeoutMs ?? 3_000;
  }

  async readSettings(signal?: AbortSignal): Promise<AgentSettings> {
    const text = await this.get('/latest/user-data', signal);
    try {
      return decodeAgentSettings(text);
    } catch (error) {
      throw new SlipwayError('InvalidConfig', "the instance's user data is not Slipway agent settings", {
        plugin: PLUGIN,
        cause: error,
      });
    }
  }

  async instanceId(signal?: AbortSignal): Promise<string | undefined> {
    return (await this.get('/latest/meta-data/instance-id', signal)).trim();
  }

  /** Any other IMDS path (`/latest/meta-data/placement/availability-zone`, `/latest/meta-data/local-ipv4`). */
  async get(path: string, signal?: AbortSignal): Promise<string> {
    for (let attempt = 0; ; attempt++) {
      const token = await this.sessionToken(signal);
      const response = await this.fetch(path, { headers: { 'x-aws-ec2-metadata-token': token } }, signal);
      const text = await response.text();
      // A token IMDS no longer accepts (it expired early, or the instance rebooted): a new session, once.
      if (response.status === 401 && attempt === 0) {
        this.token = undefined;
        continue;
      }
      if (response.status === 404) {
        throw new SlipwayError(
          'NotFound',
          `IMDS has no ${path} for this instance${path === '/latest/user-data' ? ' (was it launched without UserData?)' : ''}`,
          { plugin: PLUGIN },
        );
      }
      if (!response.ok) throw statusError(path, response.status, text);
      return text;
    }
  }

  private async sessionToken(signal?: AbortSignal): Promise<string> {
    // Renewed a minute before IMDS would refuse it.
    if (this.token && this.token.expiresAt - 60_000 > Date.now()) return this.token.value;
    const response = await this.fetch(
      '/latest/api/token',
      { method: 'PUT', headers: { 'x-aws-ec2-metadata-token-ttl-seconds': String(this.ttlSeconds) } },
      signal,
    );
    const text = await response.text();
    if (!response.ok) throw statusError('/latest/api/token', response.status, text);
    const granted = Number(response.headers.get('x-aws-ec2-metadata-token-ttl-seconds') ?? this.ttlSeconds);
    this.token = {
      value: text.trim(),
      expiresAt: Date.now() + (Number.isFinite(granted) ? granted : this.ttlSeconds) * 1000,
    };
    return this.token.value;
  }

  private async fetch(path: string, init: RequestInit, signal?: AbortSignal): Promise<Response> {
    const timeout = AbortSignal.timeout(this.timeoutMs);
    try {
      return await fetch(this.base + path, { ...init, signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
    } catch (error) {
      if (signal?.aborted)
        throw new SlipwayError('Cancelled', 'reading the instance metadata service was aborted', {
          plugin: PLUGIN,
          cause: error,
        });
      // IMDS answers once the instance's network is up: worth trying again.
      const reason = timeout.aborted ? `no answer within ${this.timeoutMs} ms` : (error as Error).message;
      throw new SlipwayError('Retryable', `cannot reach the EC2 instance metadata service at ${this.base}: ${reason}`, {
        plugin: PLUGIN,
        cause: error,
      });
    }
  }
}

function statusError(path: string, status: number, text: string): SlipwayError {
  const message = `EC2 instance metadata service ${path}: ${status} ${text
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 200)}`;
  if (status === 403) {
    return new SlipwayError('CloudError', message, {
      plugin: PLUGIN,
      hint: 'IMDS is disabled for this instance, or the request came through a proxy (X-Forwarded-For); launch it with HttpEndpoint=enabled.',
    });
  }
  return new SlipwayError(status >= 500 || status === 429 ? 'Retryable' : 'CloudError', message, { plugin: PLUGIN });
}
