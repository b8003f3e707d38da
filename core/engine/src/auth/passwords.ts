import { randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

interface ScryptParams {
  N: number;
  r: number;
  p: number;
}
const scrypt = promisify(scryptCb) as (
  password: string,
  salt: Buffer,
  keylen: number,
  options: ScryptParams & { maxmem: number },
) => Promise<Buffer>;

/** OWASP's scrypt minimum (N=2^17, r=8, p=1): 128 MiB and a few hundred milliseconds a hash. */
export const PASSWORD_PARAMS: Readonly<ScryptParams> = Object.freeze({ N: 2 ** 17, r: 8, p: 1 });
/** The lowest cost `SLIPWAY_PASSWORD_SCRYPT_COST` may choose (N=2^14: scrypt's own interactive-login figure). */
const MIN_COST = 14;

/**
 * The parameters new hashes get: OWASP's, unless `SLIPWAY_PASSWORD_SCRYPT_COST` (log2 N, 14 to 20) says
 * otherwise. Lower costs are for test rigs that log in hundreds of users (a test suite, a lab), never for a
 * control plane people use: `slipway up` warns when it is below 17 (see `weakPasswordHashing`).
 */
export function passwordParams(env: NodeJS.ProcessEnv = process.env): Readonly<ScryptParams> {
  const raw = env.SLIPWAY_PASSWORD_SCRYPT_COST;
  if (raw === undefined || raw === '') return PASSWORD_PARAMS;
  const cost = Number(raw);
  if (!Number.isInteger(cost) || cost < MIN_COST || cost > 20) {
    throw new Error(
      `SLIPWAY_PASSWORD_SCRYPT_COST must be a whole number from ${MIN_COST} to 20 (log2 of scrypt's N); got "${raw}"`,
    );
  }
  return { ...PASSWORD_PARAMS, N: 2 ** cost };
}

/** A warning for the start-up log when new hashes are weaker than OWASP's minimum; undefined when they are not. */
export function weakPasswordHashing(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const { N } = passwordParams(env);
  return N < PASSWORD_PARAMS.N
    ? `SLIPWAY_PASSWORD_SCRYPT_COST=${Math.log2(N)} makes password hashes weaker than OWASP's minimum (17); use it for test rigs only`
    : undefined;
}
/** The largest N a stored hash may ask for: a tampered row must not make a login allocate gigabytes. */
const MAX_N = 2 ** 20;

/** scrypt needs 128·N·r bytes; node's default maxmem (32 MiB) refuses N=2^17, so it is given with room. */
function maxmemOf(params: ScryptParams): number {
  return 128 * params.N * params.r * params.p + 16 * 1024 * 1024;
}

/** `scrypt$N$r$p$salt$hash`, base64 parts: the parameters travel with the hash. Only this is stored. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const params = passwordParams();
  const hash = await scrypt(password, salt, 32, { ...params, maxmem: maxmemOf(params) });
  return ['scrypt', params.N, params.r, params.p, salt.toString('base64'), hash.toString('base64')].join('$');
}

function parse(stored: string): { params: ScryptParams; salt: Buffer; hash: Buffer } | undefined {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  const params = { N: Number(n), r: Number(r), p: Number(p) };
  if (scheme !== 'scrypt' || !salt || !hash) return undefined;
  if (
    ![params.N, params.r, params.p].every(Number.isSafeInteger) ||
    params.N < 2 ||
    params.N > MAX_N ||
    params.r < 1 ||
    params.r > 32 ||
    params.p < 1 ||
    params.p > 16
  )
    return undefined;
  return { params, salt: Buffer.from(salt, 'base64'), hash: Buffer.from(hash, 'base64') };
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parsed = parse(stored);
  if (!parsed) return false;
  const actual = await scrypt(password, parsed.salt, parsed.hash.length, {
    ...parsed.params,
    maxmem: maxmemOf(parsed.params),
  });
  return actual.length === parsed.hash.length && timingSafeEqual(actual, parsed.hash);
}

/** Whether a stored hash was made with weaker parameters than today's (it is replaced at the next login). */
export function needsRehash(stored: string): boolean {
  const parsed = parse(stored);
  if (!parsed) return true;
  const current = passwordParams();
  return parsed.params.N < current.N || parsed.params.r < current.r || parsed.params.p < current.p;
}

/** A password people can paste: 24 characters from an unambiguous alphabet. */
export function generatePassword(length = 24): string {
  const alphabet = 'abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  const bytes = randomBytes(length);
  return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join('');
}
