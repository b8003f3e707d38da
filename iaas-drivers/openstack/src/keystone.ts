import { SlipwayError, type Clock } from '@slipway/contracts';
import type { OpenStackPasswordCredential } from './config.js';
import { PLUGIN, faultToError, readFault, transportError } from './errors.js';

/** One endpoint of a service in the Keystone v3 catalog. */
export interface CatalogEndpoint {
  interface: string;
  region?: string | null;
  region_id?: string | null;
  url: string;
}

export interface CatalogEntry {
  type: string;
  name?: string;
  endpoints: CatalogEndpoint[];
}

/** A scoped Keystone token with the catalog it came with. */
export interface KeystoneToken {
  value: string;
  expiresAt: number;
  projectId: string;
  catalog: CatalogEntry[];
}

/** Catalog service types accepted for each service the driver uses, most specific first. */
const SERVICE_TYPES = {
  compute: ['compute'],
  volumev3: ['block-storage', 'volumev3'],
  image: ['image'],
} as const;
export type CatalogService = keyof typeof SERVICE_TYPES;

/**
 * A Keystone v3 password session: one project-scoped token, cached until shortly before `expires_at` and
 * shared by every call (concurrent callers wait for the same authentication instead of starting their own).
 */
export class KeystoneSession {
  private readonly tokensUrl: string;
  private current?: KeystoneToken;
  private pending?: Promise<KeystoneToken>;

  constructor(
    authUrl: string,
    private readonly credential: OpenStackPasswordCredential,
    private readonly clock: Clock,
    private readonly selection: { region?: string; interface: 'public' | 'internal' | 'admin' },
  ) {
    const base = authUrl.replace(/\/+$/, '');
    this.tokensUrl = `${/\/v3$/.test(base) ? base : `${base}/v3`}/auth/tokens`;
  }

  /** A valid token, authenticating when there is none or the cached one is about to expire. */
  async token(signal?: AbortSignal): Promise<KeystoneToken> {
    const cached = this.current;
    if (cached && cached.expiresAt > this.clock.now()) return cached;
    this.pending ??= this.authenticate().finally(() => {
      this.pending = undefined;
    });
    return abortable(this.pending, signal);
  }

  /**
   * Drops `token` after a service refused it (revoked, or Keystone restarted with new keys), so the next
   * call authenticates again. A token that was already replaced is left alone, so 50 concurrent 401s
   * cause one new authentication, not 50.
   */
  invalidate(token: KeystoneToken): void {
    if (this.current === token) this.current = undefined;
  }

  /** The URL of a service for this session's region and interface. */
  endpoint(token: KeystoneToken, service: CatalogService): string {
    const types: readonly string[] = SERVICE_TYPES[service];
    const { region, interface: iface } = this.selection;
    for (const type of types) {
      const entry = token.catalog.find((e) => e.type === type);
      const endpoint = entry?.endpoints.find(
        (e) => e.interface === iface && (!region || e.region_id === region || e.region === region),
      );
      if (endpoint) return endpoint.url.replace(/\/+$/, '');
    }
    throw new SlipwayError(
      'InvalidConfig',
      `the Keystone catalog has no ${iface} ${types.join('/')} endpoint${region ? ` in region ${region}` : ''}`,
      {
        plugin: PLUGIN,
        field: region ? 'region' : 'interface',
        hint: 'Check `region` and `interface` against `openstack catalog list`, or set endpoint_overrides.',
      },
    );
  }

  private async authenticate(): Promise<KeystoneToken> {
    const c = this.credential;
    const body = {
      auth: {
        identity: {
          methods: ['password'],
          password: { user: { name: c.username, domain: { name: c.user_domain_name }, password: c.password } },
        },
        scope: { project: { name: c.project_name, domain: { name: c.project_domain_name } } },
      },
    };
    let response: Response;
    try {
      response = await fetch(this.tokensUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(body),
      });
    } catch (error) {
      throw transportError(error, 'identity', 'createToken');
    }
    if (response.status !== 201) throw faultToError(await readFault(response, 'identity', 'createToken'));
    const value = response.headers.get('x-subject-token');
    const parsed = (await response.json()) as {
      token?: { expires_at?: string; issued_at?: string; project?: { id?: string }; catalog?: CatalogEntry[] };
    };
    const token = parsed.token;
    if (!value || !token?.expires_at || !token.project?.id) {
      throw new SlipwayError(
        'CloudError',
        'Keystone answered 201 without X-Subject-Token, expires_at or a project scope',
        { plugin: PLUGIN },
      );
    }
    const expires = Date.parse(token.expires_at);
    const issued = token.issued_at ? Date.parse(token.issued_at) : this.clock.now();
    // Renew before expiry so a call started just before it does not reach the service with a dead token.
    const margin = Math.min(60_000, Math.max(0, (expires - issued) / 10));
    const result: KeystoneToken = {
      value,
      expiresAt: this.clock.now() + (expires - issued) - margin,
      projectId: token.project.id,
      catalog: token.catalog ?? [],
    };
    this.current = result;
    return result;
  }
}

/** Waits for a shared promise, giving up (without cancelling it for the others) when `signal` fires. */
function abortable<T>(promise: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted)
    return Promise.reject(
      new SlipwayError('Cancelled', 'the operation was aborted', { plugin: PLUGIN, cause: signal.reason }),
    );
  return new Promise<T>((resolve, reject) => {
    const onAbort = () =>
      reject(new SlipwayError('Cancelled', 'the operation was aborted', { plugin: PLUGIN, cause: signal.reason }));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
