import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { Ec2Error } from './errors.js';

/** The access key the fake accepts. */
export interface FakeAccessKey {
  accessKeyId: string;
  secretAccessKey: string;
  /** When set, requests must carry it as `X-Amz-Security-Token` (temporary credentials). */
  sessionToken?: string;
}

export interface SignedRequest {
  method: string;
  /** The path as sent, percent-encoded. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** How far a request's X-Amz-Date may be from the fake's clock (AWS allows 5 minutes, and 15 for some services). */
const MAX_SKEW_MS = 5 * 60_000;

const SIGNATURE_MISMATCH =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';

/**
 * Verifies an AWS Signature Version 4 `Authorization` header for service `ec2` in `region`: rebuilds the
 * canonical request from what arrived (method, path, query, the signed headers, the body's SHA-256), derives
 * the signing key from the secret and compares signatures. Throws EC2's own errors.
 */
export function verifySigV4(request: SignedRequest, key: FakeAccessKey, region: string, now = Date.now()): void {
  const authorization = header(request.headers, 'authorization');
  if (!authorization) {
    throw new Ec2Error(
      'MissingAuthenticationToken',
      'The request must contain either a valid (registered) AWS access key ID or X.509 certificate.',
      401,
    );
  }
  const match = /^AWS4-HMAC-SHA256 Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})$/.exec(
    authorization.trim(),
  );
  if (!match) {
    throw new Ec2Error(
      'IncompleteSignature',
      `Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters. Authorization=${authorization.split(' ')[0]}`,
      400,
    );
  }
  const [, credential, signedHeaderList, signature] = match as unknown as [string, string, string, string];
  const [accessKeyId, date, scopeRegion, service, terminal] = credential.split('/');
  if (accessKeyId !== key.accessKeyId) {
    throw new Ec2Error('AuthFailure', 'AWS was not able to validate the provided access credentials', 401);
  }
  if (terminal !== 'aws4_request' || !date || !scopeRegion || !service) {
    throw new Ec2Error(
      'IncompleteSignature',
      `Credential should be scoped with a valid terminator: 'aws4_request', not '${terminal}'.`,
      400,
    );
  }
  if (service !== 'ec2')
    throw new Ec2Error('SignatureDoesNotMatch', `Credential should be scoped to correct service: 'ec2'.`, 403);
  if (scopeRegion !== region)
    throw new Ec2Error(
      'SignatureDoesNotMatch',
      `Credential should be scoped to a valid region, not '${scopeRegion}'.`,
      403,
    );
  const amzDate = header(request.headers, 'x-amz-date');
  if (!amzDate || !/^\d{8}T\d{6}Z$/.test(amzDate)) {
    throw new Ec2Error(
      'IncompleteSignature',
      "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
      400,
    );
  }
  if (amzDate.slice(0, 8) !== date)
    throw new Ec2Error(
      'SignatureDoesNotMatch',
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${date}' != '${amzDate.slice(0, 8)}'`,
      403,
    );
  const signedAt = Date.parse(
    `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`,
  );
  if (!Number.isFinite(signedAt) || Math.abs(now - signedAt) > MAX_SKEW_MS) {
    throw new Ec2Error('RequestExpired', `Request has expired. Timestamp date is ${amzDate}`, 400);
  }
  const signedHeaders = signedHeaderList.split(';');
  if (!signedHeaders.includes('host')) throw new Ec2Error('SignatureDoesNotMatch', SIGNATURE_MISMATCH, 403);
  const payloadHash = sha256Hex(request.body);
  const claimedHash = header(request.headers, 'x-amz-content-sha256');
  if (claimedHash !== undefined && claimedHash !== 'UNSIGNED-PAYLOAD' && claimedHash !== payloadHash) {
    throw new Ec2Error('SignatureDoesNotMatch', SIGNATURE_MISMATCH, 403);
  }
  const canonical = [
    request.method.toUpperCase(),
    canonicalPath(request.path),
    canonicalQuery(request.query),
    signedHeaders.map((name) => `${name}:${canonicalHeaderValue(request.headers[name])}\n`).join(''),
    signedHeaderList,
    claimedHash ?? payloadHash,
  ].join('\n');
  const scope = `${date}/${scopeRegion}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonical)].join('\n');
  const dateKey = hmac(`AWS4${key.secretAccessKey}`, date);
  const signingKey = hmac(hmac(hmac(dateKey, scopeRegion), service), 'aws4_request');
  const expected = Buffer.from(createHmac('sha256', signingKey).update(stringToSign).digest('hex'));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    throw new Ec2Error('SignatureDoesNotMatch', SIGNATURE_MISMATCH, 403);
  }
  if (key.sessionToken !== undefined && header(request.headers, 'x-amz-security-token') !== key.sessionToken) {
    throw new Ec2Error('AuthFailure', 'AWS was not able to validate the provided access credentials', 401);
  }
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

function canonicalHeaderValue(value: string | string[] | undefined): string {
  const joined = Array.isArray(value) ? value.join(',') : (value ?? '');
  return joined.trim().replace(/\s+/g, ' ');
}

/** Each path segment URI-encoded once more (every service but S3 signs the doubly encoded path). */
function canonicalPath(path: string): string {
  if (path === '' || path === '/') return '/';
  return path
    .split('/')
    .map((segment) => rfc3986(segment))
    .join('/');
}

function canonicalQuery(query: URLSearchParams): string {
  return [...query]
    .map(([k, v]) => [rfc3986(k), rfc3986(v)] as const)
    .sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

function rfc3986(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}
