/** The REST API as the dashboard calls it: a bearer token from /oauth/token, problem+json errors. */
export interface Session {
  token: string;
  user: string;
  roles: string[];
  expiresAt: number;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

const KEY = 'slipway.session';

export function loadSession(): Session | null {
  try {
    const session = JSON.parse(sessionStorage.getItem(KEY) ?? 'null') as Session | null;
    return session && session.expiresAt > Date.now() ? session : null;
  } catch {
    return null;
  }
}

export function saveSession(session: Session | null): void {
  if (session) sessionStorage.setItem(KEY, JSON.stringify(session));
  else sessionStorage.removeItem(KEY);
}

export async function login(user: string, password: string): Promise<Session> {
  const response = await fetch('/oauth/token', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ grant_type: 'password', username: user, password }),
  });
  if (!response.ok) throw await problem(response);
  const body = (await response.json()) as { access_token: string; expires_in: number; scope: string };
  return {
    token: body.access_token,
    user,
    roles: body.scope.split(' ').filter(Boolean),
    expiresAt: Date.now() + body.expires_in * 1000,
  };
}

export async function logout(session: Session): Promise<void> {
  await fetch('/oauth/revoke', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token: session.token }),
  }).catch(() => {});
}

/** What the signed-in user may do: the dashboard shows no button whose call the API would refuse. */
export function can(session: Session, action: 'create' | 'manage' | 'rehearse' | 'admin'): boolean {
  const admin = session.roles.includes('clusters.admin');
  if (action === 'admin' || action === 'rehearse') return admin;
  return admin || session.roles.includes('clusters.manage');
}

export class Api {
  /** Called when the token is no longer accepted (expired or revoked): the app goes back to its login form. */
  onUnauthenticated: () => void = () => {};

  constructor(readonly session: Session) {}

  get<T>(path: string, signal?: AbortSignal): Promise<T> {
    return this.call<T>('GET', path, undefined, signal);
  }

  async call<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.session.token}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
    if (response.status === 401) this.onUnauthenticated();
    if (!response.ok) throw await problem(response);
    if (response.status === 204) return undefined as T;
    return (await response.json()) as T;
  }
}

async function problem(response: Response): Promise<ApiError> {
  try {
    const body = (await response.json()) as { detail?: string; title?: string; hint?: string };
    return new ApiError(response.status, body.detail ?? body.title ?? response.statusText, body.hint);
  } catch {
    return new ApiError(response.status, `${response.status} ${response.statusText}`);
  }
}
