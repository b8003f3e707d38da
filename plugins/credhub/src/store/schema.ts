import type { Generated, Kysely } from 'kysely';

/** One credential name: its stable uuid (the `id` of /api/v1/certificates) and type. */
export interface CredentialsTable {
  uuid: string;
  name: string;
  type: string;
  /** Certificates: the name of the CA that signed the current version (public: it is in the certificate). */
  ca_name: string | null;
  created_at: string;
}

export interface VersionsTable {
  seq: Generated<number>;
  id: string;
  credential_uuid: string;
  name: string;
  type: string;
  /** AES-256-GCM sealed JSON `{ value, parameters }` under the version's data key. */
  sealed: Buffer;
  /** The data key, wrapped by the key-encryption key `key_id`. */
  wrapped_key: Buffer;
  key_id: string;
  metadata: string | null;
  transitional: number;
  expiry_date: string | null;
  /**
   * Certificates: the public certificate and its signer's certificate, kept in the clear as CredHub
   * does, so trust bundles and listings need no decryption. Never the private key.
   */
  certificate: string | null;
  ca_certificate: string | null;
  is_ca: number;
  self_signed: number;
  /** 1 when generated (so it can be regenerated from its sealed parameters), 0 when set. */
  generated: number;
  created_by: string;
  created_at: string;
}

export interface PermissionsTable {
  uuid: string;
  actor: string;
  path: string;
  /** JSON array of operations. */
  operations: string;
  created_at: string;
  updated_at: string;
}

export interface AuditTable {
  seq: Generated<number>;
  at: string;
  actor: string;
  operation: string;
  name: string | null;
  version_id: string | null;
  result: string;
  source_address: string | null;
  /** JSON: what else the event says (mode, signer, permission, error message). Never a value. */
  details: string | null;
}

export interface CredhubSchema {
  credentials: CredentialsTable;
  credential_versions: VersionsTable;
  permissions: PermissionsTable;
  audit_events: AuditTable;
}

export type CredentialDb = Kysely<CredhubSchema>;
export type VersionRow = Omit<VersionsTable, 'seq'> & { seq: number };
export type CredentialRow = CredentialsTable;
export type PermissionRow = PermissionsTable;
export type AuditRow = Omit<AuditTable, 'seq'> & { seq: number };
