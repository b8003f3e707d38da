import { request } from 'node:https';

/** What an account may do on a repository, as the registry's own data path answers (Docker Registry HTTP API v2). */
export interface RepositoryAccess {
  /** The registry (or its token service) accepted the credentials. */
  authenticated: boolean;
  pull: boolean;
  push: boolean;
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * Probes a registry with an account, the way a client would: the `/v2/` challenge (Bearer: a token from its
 * realm for `repository:NAME:pull,push`; Basic: the credentials themselves), then a tag list (pull) and a blob
 * upload start (push, cancelled at once). Only the registry decides; nothing here reads the driver's view.
 */
export async function probeRepositoryAccess(
  endpoint: string,
  caPem: string | undefined,
  account: { username: string; secret: string },
  repository: string,
): Promise<RepositoryAccess> {
  const base = `https://${endpoint}`;
  const basic = `Basic ${Buffer.from(`${account.username}:${account.secret}`).toString('base64')}`;
  const challenge = await send(`${base}/v2/`, 'GET', caPem, {});
  const header = String(challenge.headers['www-authenticate'] ?? '');
  let authorization = basic;
  if (/^Bearer /i.test(header)) {
    const params = Object.fromEntries(
      [...header.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!.toLowerCase(), m[2]!]),
    );
    const realm = new URL(params.realm!);
    if (params.service) realm.searchParams.set('service', params.service);
    realm.searchParams.set('scope', `repository:${repository}:pull,push`);
    const token = await send(realm.toString(), 'GET', caPem, { authorization: basic });
    if (token.status === 401 || token.status === 403) return { authenticated: false, pull: false, push: false };
    if (token.status !== 200)
      throw new Error(`the token service answered ${token.status}: ${token.body.slice(0, 200)}`);
    const parsed = JSON.parse(token.body) as { token?: string; access_token?: string };
    authorization = `Bearer ${parsed.token ?? parsed.access_token}`;
  } else {
    const login = await send(`${base}/v2/`, 'GET', caPem, { authorization: basic });
    if (login.status === 401) return { authenticated: false, pull: false, push: false };
  }
  const tags = await send(`${base}/v2/${repository}/tags/list`, 'GET', caPem, { authorization });
  // 404 NAME_UNKNOWN: allowed to look, nothing there yet.
  const pull = tags.status === 200 || tags.status === 404;
  const upload = await send(`${base}/v2/${repository}/blobs/uploads/`, 'POST', caPem, {
    authorization,
    'content-length': '0',
  });
  const push = upload.status === 202;
  if (push && typeof upload.headers.location === 'string') {
    await send(new URL(upload.headers.location, base).toString(), 'DELETE', caPem, { authorization }).catch(
      () => undefined,
    );
  }
  return { authenticated: true, pull, push };
}

function send(url: string, method: string, ca: string | undefined, headers: Record<string, string>): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, ca, timeout: 15_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (body.length < 65536) body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url}: no answer within 15 s`)));
    req.on('error', reject);
    req.end();
  });
}
