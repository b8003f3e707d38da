import type { HttpApiHost, PluginHttpApi } from './http-api.js';
/**
 * A credential provider stores typed, versioned secrets under slash-separated names and generates them,
 * as CredHub does. Every cluster's secrets live under `/slipway/clusters/{uuid}/`.
 *
 * Values are never logged. Every write is a new version; reads return the current version unless asked.
 */
export const CREDENTIAL_TYPES = ['value', 'json', 'password', 'user', 'certificate', 'rsa', 'ssh'] as const;
export type CredentialType = (typeof CREDENTIAL_TYPES)[number];

export interface CertificateValue {
  /** PEM of the signing CA (the CA itself for a self-signed root); null when unknown. */
  ca: string | null;
  certificate: string;
  private_key: string;
  /** Name of the CA credential that signed it, when generated with `ca`. */
  ca_name?: string;
}
export interface UserValue {
  username: string;
  password: string;
  password_hash?: string;
}
export interface RsaValue {
  public_key: string;
  private_key: string;
}
export interface SshValue {
  public_key: string;
  private_key: string;
  public_key_fingerprint?: string;
}

export interface CredentialValueByType {
  value: string;
  json: unknown;
  password: string;
  user: UserValue;
  certificate: CertificateValue;
  rsa: RsaValue;
  ssh: SshValue;
}

export interface Credential<T extends CredentialType = CredentialType> {
  /** Id of this version. */
  id: string;
  name: string;
  type: T;
  value: CredentialValueByType[T];
  version_created_at: string;
  metadata?: Record<string, unknown> | null;
  /** Certificates only: this CA version is trusted alongside the current one during a rotation. */
  transitional?: boolean;
  /** Certificates only. */
  expiry_date?: string;
}

export interface CertificateParameters {
  common_name?: string;
  alternative_names?: string[];
  organization?: string;
  organization_unit?: string;
  locality?: string;
  state?: string;
  country?: string;
  key_usage?: Array<
    | 'digital_signature'
    | 'non_repudiation'
    | 'key_encipherment'
    | 'data_encipherment'
    | 'key_agreement'
    | 'key_cert_sign'
    | 'crl_sign'
    | 'encipher_only'
    | 'decipher_only'
  >;
  extended_key_usage?: Array<'server_auth' | 'client_auth' | 'code_signing' | 'email_protection' | 'timestamping'>;
  /** Days; default 365. */
  duration?: number;
  /** RSA key length: 2048 (default), 3072, 4096. */
  key_length?: 2048 | 3072 | 4096;
  /**
   * Slipway extension: `ecdsa-p256` for short-lived, high-volume certificates (per-VM agent identities),
   * where RSA key generation would dominate. Default `rsa`.
   */
  key_algorithm?: 'rsa' | 'ecdsa-p256';
  /** Name of the CA credential that signs this certificate. */
  ca?: string;
  is_ca?: boolean;
  self_sign?: boolean;
}

export interface PasswordParameters {
  length?: number;
  exclude_upper?: boolean;
  exclude_lower?: boolean;
  exclude_number?: boolean;
  include_special?: boolean;
}

export interface GenerationParametersByType {
  value: never;
  json: never;
  password: PasswordParameters;
  user: PasswordParameters & { username?: string };
  certificate: CertificateParameters;
  rsa: { key_length?: 2048 | 3072 | 4096 };
  ssh: { key_length?: 2048 | 3072 | 4096; ssh_comment?: string };
}

/** A certificate version's public half, as `certificateFacts` lists it. */
export interface CertificateFact {
  name: string;
  /** PEM. */
  certificate: string;
  /** The CA credential that signed it, when known. */
  ca_name: string | null;
  transitional: boolean;
}

/** `converge` regenerates only when the parameters differ from those of the current version. */
export type GenerateMode = 'overwrite' | 'no-overwrite' | 'converge';

/** Who is asking, for access control and audit. The engine acts as `slipway:engine`. */
export interface CredentialContext {
  actor: string;
  sourceAddress?: string;
  signal?: AbortSignal;
  /**
   * The caller's Slipway roles (`clusters.admin`, ...) when it is an authenticated user. A provider may map
   * roles to access (an admin role reads everything); absent means "the actor's own permissions only".
   */
  roles?: readonly string[];
}

/** CredHub's permission operations. */
export const PERMISSION_OPERATIONS = ['read', 'write', 'delete', 'read_acl', 'write_acl'] as const;
export type PermissionOperation = (typeof PERMISSION_OPERATIONS)[number];

/**
 * One access-control entry: `actor` may perform `operations` on `path`, which is a credential name
 * (`/a/b`) or a prefix pattern ending in `/*` (`/slipway/clusters/{uuid}/*`). Entries are additive.
 */
export interface CredentialPermission {
  uuid: string;
  actor: string;
  path: string;
  operations: PermissionOperation[];
}

export interface RegenerateOptions {
  /** Certificates: store the new version as transitional (CA rotation, phase 1). */
  transitional?: boolean;
  /** Certificates: sign with the CA's transitional version instead of its active one. */
  allowTransitionalParentToSign?: boolean;
}

export interface CredentialProvider {
  /** The current version (or the version with `versionId`); throws `NotFound` when there is none. */
  get(name: string, context: CredentialContext, options?: { versionId?: string }): Promise<Credential>;
  /** The last `count` versions, newest first. */
  getVersions(name: string, count: number, context: CredentialContext): Promise<Credential[]>;
  /** Stores a value as a new version. */
  set<T extends CredentialType>(
    input: { name: string; type: T; value: CredentialValueByType[T]; metadata?: Record<string, unknown> },
    context: CredentialContext,
  ): Promise<Credential<T>>;
  /** Generates a value as a new version, honouring `mode` (default `converge`). */
  generate<T extends Exclude<CredentialType, 'value' | 'json'>>(
    input: {
      name: string;
      type: T;
      parameters?: GenerationParametersByType[T];
      mode?: GenerateMode;
      metadata?: Record<string, unknown>;
    },
    context: CredentialContext,
  ): Promise<Credential<T>>;
  /** Names (with the time of their current version) under a path prefix. */
  find(
    input: { path: string },
    context: CredentialContext,
  ): Promise<Array<{ name: string; version_created_at: string }>>;
  /** Deletes a name with all its versions; succeeds when it is already gone. */
  delete(name: string, context: CredentialContext): Promise<void>;
  destroy(): Promise<void>;

  // Optional verbs (contract 1.x). Callers check that a verb exists before they use it.

  /**
   * The versions in use: the current one and, for a certificate in rotation, its transitional version
   * (CredHub's `current=true`). The current version comes first.
   */
  getCurrent?(name: string, context: CredentialContext): Promise<Credential[]>;
  /** Generates a new version from the parameters the current version was generated with. */
  regenerate?(name: string, context: CredentialContext, options?: RegenerateOptions): Promise<Credential>;
  /**
   * Certificates: marks `versionId` (a version of `name`) as the only transitional one, or clears the
   * flag with `null`. Returns the versions in use afterwards, as `getCurrent` does.
   */
  setTransitionalVersion?(name: string, versionId: string | null, context: CredentialContext): Promise<Credential[]>;
  /**
   * Regenerates every certificate that the CA `signedBy` signed (recursively through intermediate CAs);
   * with `onlyOutdated`, only those not signed by the CA's current version. Returns the names regenerated.
   */
  bulkRegenerate?(input: { signedBy: string; onlyOutdated?: boolean }, context: CredentialContext): Promise<string[]>;
  /**
   * The public half of every certificate version in use under a path prefix (the current one and, in a
   * rotation, the transitional one), without opening any secret: what expiry checks and listings need.
   */
  certificateFacts?(input: { path: string }, context: CredentialContext): Promise<CertificateFact[]>;
  /** Adds operations for an actor on a path (merged with what it has); idempotent. */
  grant?(
    input: { actor: string; path: string; operations: PermissionOperation[] },
    context: CredentialContext,
  ): Promise<CredentialPermission>;
  /**
   * Removes the entries on exactly `path` (only the actor's, with `actor`); with `actor` alone, every entry of
   * that actor (a deleted user's). At least one of the two is given. Returns how many went.
   */
  revoke?(input: { path?: string; actor?: string }, context: CredentialContext): Promise<number>;
  /** The HTTP API this provider serves on the control plane's server (CredHub's, for the credhub plugin). */
  httpApi?(host: HttpApiHost): Promise<PluginHttpApi>;
}
