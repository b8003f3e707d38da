import { request } from 'node:https';
import { SlipwayError, throwIfAborted } from '@slipway/contracts';

/** Where a cluster's API is and how the control plane proves who it is to it. PEMs are never logged. */
export interface KubernetesApiTarget {
  /** `https://ADDRESS:PORT`: the address dialled. */
  url: string;
  /**
   * The name the API server's certificate must carry (the cluster's external host name, in its SANs). Sent
   * as SNI and checked instead of the dialled address, as kubeconfig's `tls-server-name` does.
   */
  serverName: string;
  /** The cluster's trust bundle: the API server's certificate must chain to it. */
  caPem: string;
  /** The client certificate presented (the cluster's admin, or the drainer). */
  certificatePem: string;
  privateKeyPem: string;
}

export interface KubernetesResponse {
  status: number;
  body: string;
}

/** The fields of a Kubernetes object the control plane writes: enough to address it. */
export interface KubernetesObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

/** Cluster-scoped kinds the control plane applies, by kind: their collection path. */
const COLLECTIONS: Record<string, string> = {
  ClusterRole: '/apis/rbac.authorization.k8s.io/v1/clusterroles',
  ClusterRoleBinding: '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings',
};

/** The field manager Slipway's server-side applies are recorded under (`kubectl get -o yaml --show-managed-fields`). */
export const FIELD_MANAGER = 'slipway';

/**
 * A minimal client of a cluster's Kubernetes API over mutual TLS: what the control plane itself needs
 * (readiness, server-side apply of RBAC objects, reads for the smoke test). It verifies the server against
 * the cluster's CA and never falls back to an unverified connection.
 */
export class KubernetesApiClient {
  constructor(
    private readonly target: KubernetesApiTarget,
    private readonly options: { timeoutMs?: number } = {},
  ) {}

  get url(): string {
    return this.target.url;
  }

  /** One request; resolves with any HTTP status, rejects only when no answer came (refused, TLS, timeout). */
  send(
    method: string,
    path: string,
    body?: { contentType: string; text: string },
    signal?: AbortSignal,
  ): Promise<KubernetesResponse> {
    throwIfAborted(signal);
    const url = new URL(path, this.target.url);
    return new Promise((resolve, reject) => {
      const req = request(
        {
          method,
          host: url.hostname.replace(/^\[|\]$/g, ''),
          port: url.port || 443,
          path: url.pathname + url.search,
          servername: this.target.serverName,
          ca: this.target.caPem,
          cert: this.target.certificatePem,
          key: this.target.privateKeyPem,
          rejectUnauthorized: true,
          timeout: this.options.timeoutMs ?? 10_000,
          signal,
          agent: false,
          headers: {
            accept: 'application/json',
            ...(body ? { 'content-type': body.contentType, 'content-length': Buffer.byteLength(body.text) } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.on('timeout', () =>
        req.destroy(
          new SlipwayError(
            'Timeout',
            `${method} ${url.pathname} on ${this.target.url} did not answer within ${this.options.timeoutMs ?? 10_000} ms`,
          ),
        ),
      );
      req.on('error', reject);
      req.end(body?.text);
    });
  }

  /** GET /readyz: true only on 200 (the API server and what it depends on, etcd included, are ready). */
  async readyz(signal?: AbortSignal): Promise<{ ready: boolean; detail: string }> {
    try {
      const res = await this.send('GET', '/readyz', undefined, signal);
      return {
        ready: res.status === 200,
        detail:
          res.status === 200
            ? `/readyz answered ${res.body.trim() || 'ok'}`
            : `/readyz answered ${res.status}: ${res.body.trim().slice(0, 300)}`,
      };
    } catch (error) {
      if (signal?.aborted) throw error;
      return {
        ready: false,
        detail: `no answer from ${this.target.url}: ${error instanceof Error ? error.message : String(error)}`,
      };
    }
  }

  /** A GET of a JSON document; throws with the API's own message on anything but 200. */
  async get<T>(path: string, signal?: AbortSignal): Promise<T> {
    const res = await this.send('GET', path, undefined, signal);
    if (res.status !== 200) throw statusError('GET', path, res);
    return JSON.parse(res.body) as T;
  }

  /** A POST of a JSON document (201 or 200 expected). */
  async create<T>(path: string, object: unknown, signal?: AbortSignal): Promise<T> {
    const res = await this.send(
      'POST',
      path,
      { contentType: 'application/json', text: JSON.stringify(object) },
      signal,
    );
    if (res.status !== 201 && res.status !== 200) throw statusError('POST', path, res);
    return JSON.parse(res.body) as T;
  }

  async delete(path: string, signal?: AbortSignal): Promise<void> {
    const res = await this.send('DELETE', path, undefined, signal);
    if (res.status !== 200 && res.status !== 202 && res.status !== 404) throw statusError('DELETE', path, res);
  }

  /**
   * Server-side apply (`kubectl apply --server-side --force-conflicts`): the object as the control plane
   * wants it, created or updated in one idempotent call, so a resumed task applies it again harmlessly.
   */
  async apply(object: KubernetesObject, signal?: AbortSignal): Promise<void> {
    const collection = COLLECTIONS[object.kind];
    if (!collection) throw new SlipwayError('Internal', `no API path known for kind ${object.kind}`);
    const path = `${collection}/${encodeURIComponent(object.metadata.name)}?fieldManager=${FIELD_MANAGER}&force=true`;
    // JSON is YAML: the apply-patch content type takes either.
    const res = await this.send(
      'PATCH',
      path,
      { contentType: 'application/apply-patch+yaml', text: JSON.stringify(object) },
      signal,
    );
    if (res.status !== 200 && res.status !== 201) throw statusError('PATCH', path, res);
  }
}

/** A Kubernetes `Status` answer as a SlipwayError carrying the API's message. */
function statusError(method: string, path: string, res: KubernetesResponse): SlipwayError {
  let message = res.body.trim().slice(0, 500);
  try {
    const status = JSON.parse(res.body) as { kind?: string; message?: string };
    if (status.kind === 'Status' && status.message) message = status.message;
  } catch {
    // Not JSON: keep the text.
  }
  const code =
    res.status === 404
      ? 'NotFound'
      : res.status === 403
        ? 'Forbidden'
        : res.status === 409
          ? 'Conflict'
          : res.status >= 500
            ? 'Retryable'
            : 'CloudError';
  return new SlipwayError(
    code,
    `the cluster's API answered ${method} ${path.split('?')[0]} with ${res.status}: ${message}`,
  );
}
