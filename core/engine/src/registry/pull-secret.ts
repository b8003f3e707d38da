import { request } from 'node:https';

/** The Secret PKS-style clusters carry for clients that want an imagePullSecret (nodes do not need it). */
export const PULL_SECRET_NAME = 'slipway-registry';
const NAMESPACE = 'default';

export interface KubernetesApiAccess {
  url: string;
  caPem: string;
  clientCertificate: string;
  clientKey: string;
}

/** A `kubernetes.io/dockerconfigjson` Secret holding the pull robot's login for `endpoint`. */
export function dockerConfigSecret(endpoint: string, username: string, password: string): Record<string, unknown> {
  const auth = Buffer.from(`${username}:${password}`).toString('base64');
  const config = { auths: { [endpoint]: { username, password, auth } } };
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: PULL_SECRET_NAME, namespace: NAMESPACE, labels: { 'app.kubernetes.io/managed-by': 'slipway' } },
    type: 'kubernetes.io/dockerconfigjson',
    data: { '.dockerconfigjson': Buffer.from(JSON.stringify(config)).toString('base64') },
  };
}

/** Whether the API server answers `/readyz` within `timeoutMs`; the reason when it does not. */
export async function apiAnswers(
  api: KubernetesApiAccess,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<{ ok: true } | { ok: false; reason: string }> {
  try {
    const answer = await send(api, 'GET', '/readyz', undefined, undefined, timeoutMs, signal);
    return answer.status === 200 ? { ok: true } : { ok: false, reason: `readyz answered ${answer.status}` };
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
}

/**
 * Creates or replaces the Secret in `default` and lists it in the default service account's
 * imagePullSecrets (a strategic merge keeps the account's other secrets).
 */
export async function applyPullSecret(
  api: KubernetesApiAccess,
  secret: Record<string, unknown>,
  signal?: AbortSignal,
): Promise<void> {
  const base = `/api/v1/namespaces/${NAMESPACE}`;
  const replaced = await send(
    api,
    'PUT',
    `${base}/secrets/${PULL_SECRET_NAME}`,
    secret,
    'application/json',
    10_000,
    signal,
  );
  if (replaced.status === 404) {
    const created = await send(api, 'POST', `${base}/secrets`, secret, 'application/json', 10_000, signal);
    if (created.status >= 300)
      throw new Error(`creating secret ${PULL_SECRET_NAME}: ${created.status} ${created.body.slice(0, 200)}`);
  } else if (replaced.status >= 300) {
    throw new Error(`replacing secret ${PULL_SECRET_NAME}: ${replaced.status} ${replaced.body.slice(0, 200)}`);
  }
  const patch = { imagePullSecrets: [{ name: PULL_SECRET_NAME }] };
  const patched = await send(
    api,
    'PATCH',
    `${base}/serviceaccounts/default`,
    patch,
    'application/strategic-merge-patch+json',
    10_000,
    signal,
  );
  if (patched.status >= 300)
    throw new Error(`patching service account default: ${patched.status} ${patched.body.slice(0, 200)}`);
}

function send(
  api: KubernetesApiAccess,
  method: string,
  path: string,
  body: unknown,
  contentType: string | undefined,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<{ status: number; body: string }> {
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(path, api.url),
      {
        method,
        ca: api.caPem,
        cert: api.clientCertificate,
        key: api.clientKey,
        timeout: timeoutMs,
        signal,
        headers: {
          accept: 'application/json',
          ...(payload ? { 'content-type': contentType!, 'content-length': String(payload.length) } : {}),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          if (text.length < 65536) text += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(payload);
  });
}
