import type { AuditSink } from '@slipway/contracts';
import { isSignedBy, RsaKeyPool } from '@slipway/pki';
import {
  SlipwayError,
  CREDENTIAL_TYPES,
  type CertificateFact,
  type CertificateParameters,
  type CertificateValue,
  type Credential,
  type CredentialContext,
  type CredentialPermission,
  type CredentialProvider,
  type CredentialType,
  type CredentialValueByType,
  type GenerateMode,
  type GenerationParametersByType,
  type PermissionOperation,
  type RegenerateOptions,
  type UserValue,
} from '@slipway/contracts';
import { AccessPolicy, credentialNotFound, refusal, type AccessOptions } from './access.js';
import { AuditLog, type AuditEvent, type AuditFilter, type AuditNote, type AuditOperation } from './audit.js';
import { audited } from './audited.js';
import { keyUsage, rotateEncryptionKeys, type KeyRotationProgress, type KeyUsage } from './encryption/rotation.js';
import type { ValueSealer } from './encryption/sealer.js';
import { generateCertificate, type GenerationContext, type Signer } from './generate/certificate.js';
import { checkParameters, GENERATED_TYPES, type GeneratedType } from './generate/parameters.js';
import { generatePassword, generateUser } from './generate/password.js';
import { generateRsa, generateSsh } from './generate/keys.js';
import { normalizeName, normalizePrefix } from './names.js';
import { PermissionService } from './permissions.js';
import type { CredentialDb, VersionRow } from './store/schema.js';
import { checkSetValue } from './values.js';
import { CredentialVault, typeMismatch, type CertificateVersionInfo, type Sealed } from './vault.js';

const MODES: readonly GenerateMode[] = ['overwrite', 'no-overwrite', 'converge'];
/** Parallel regenerations in a bulk run: keys and signatures run on libuv's pool, four threads by default. */
const BULK_CONCURRENCY = 8;

export interface CredhubProviderOptions {
  db: CredentialDb;
  /** The database belongs to the host (the control plane's own): destroy leaves it open. */
  sharedDb?: boolean;
  sealer: ValueSealer;
  access?: AccessOptions;
  /** See CredhubConfig.certificates.concatenate_cas; default true. */
  concatenateCas?: boolean;
  /** The control plane's clock: certificates' validity and expiry queries follow it. Default: the wall clock. */
  clock?: { now(): number };
  /** RSA-2048 keys kept ready in memory (never stored until issued); default 2, 0 for none. */
  rsaPoolSize?: number;
  /** The host's audit trail, written through (see AuditLog). */
  audit?: AuditSink;
}

/** A certificate credential as /api/v1/certificates lists it. */
export interface CertificateListing {
  name: string;
  id: string;
  signed_by: string;
  signs: string[];
  versions: CertificateVersionInfo[];
}

export interface FindOptions {
  path?: string;
  nameLike?: string;
  /** Only certificates expiring within this many days. */
  expiresWithinDays?: number;
}

export interface CertificateRegenerateOptions extends RegenerateOptions {
  keyLength?: 2048 | 3072 | 4096;
  duration?: number;
  metadata?: Record<string, unknown> | null;
}

/**
 * A CredHub-like credential store: typed values, generation with CredHub's parameters and modes, every
 * write a new version, certificates with transitional versions for CA rotation, permissions on names
 * and path patterns, and an audit record of every call. Each version is sealed at rest (see
 * EnvelopeSealer); names, types, times and certificates' public halves stay in the clear.
 */
export class CredhubCredentialProvider implements CredentialProvider {
  readonly access: AccessPolicy;
  readonly auditLog: AuditLog;
  /** CredHub's v2 permission entries: create, find, get, replace, patch, delete. */
  readonly permissions: PermissionService;
  private readonly vault: CredentialVault;
  /** Serializes writes per name, so two converges of one name cannot both generate. */
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly background = new Set<{ promise: Promise<unknown>; abort: AbortController }>();
  private readonly generation: GenerationContext;

  constructor(private readonly options: CredhubProviderOptions) {
    const clock = options.clock ?? { now: () => Date.now() };
    this.generation = {
      now: () => clock.now(),
      rsaPool: options.rsaPoolSize === 0 ? undefined : new RsaKeyPool(options.rsaPoolSize ?? 2),
      knownCas: new Set(),
    };
    this.access = new AccessPolicy(options.db, options.access);
    this.auditLog = new AuditLog(options.db, options.audit);
    this.permissions = new PermissionService(this.access, this.auditLog);
    this.vault = new CredentialVault(options.db, options.sealer, {
      concatenateCas: options.concatenateCas ?? true,
      inTransaction: (trx, learned) => this.auditLog.commitWith(trx, learned),
    });
  }

  // ---- reading ----

  async get(name: string, ctx: CredentialContext, options: { versionId?: string } = {}): Promise<Credential> {
    return this.run(ctx, 'get', required(name), async (note, key) => {
      await this.access.require(ctx, key, 'read');
      const row = options.versionId ? await this.vault.version(options.versionId) : await this.vault.current(key);
      if (!row || row.name !== key) throw notFound(key, options.versionId);
      note.versionId = row.id;
      return this.reveal(ctx, await this.vault.toCredential(row));
    });
  }

  async getVersions(name: string, count: number, ctx: CredentialContext): Promise<Credential[]> {
    return this.run(ctx, 'get', required(name), async (note, key) => {
      if (!Number.isInteger(count) || count < 1)
        throw new SlipwayError('InvalidInput', 'The query parameter versions was not valid for this request.', {
          field: 'versions',
        });
      await this.access.require(ctx, key, 'read');
      const rows = await this.vault.versions(key, count);
      if (!rows.length) throw notFound(key);
      note.versionId = rows[0].id;
      note.details = { versions: rows.length };
      return Promise.all(rows.map(async (r) => this.reveal(ctx, await this.vault.toCredential(r))));
    });
  }

  /** Every version, newest first. */
  async getAllVersions(name: string, ctx: CredentialContext): Promise<Credential[]> {
    return this.run(ctx, 'get', required(name), async (note, key) => {
      await this.access.require(ctx, key, 'read');
      const rows = await this.vault.versions(key);
      if (!rows.length) throw notFound(key);
      note.versionId = rows[0].id;
      return Promise.all(rows.map(async (r) => this.reveal(ctx, await this.vault.toCredential(r))));
    });
  }

  async getCurrent(name: string, ctx: CredentialContext): Promise<Credential[]> {
    return this.run(ctx, 'get', required(name), async (note, key) => {
      await this.access.require(ctx, key, 'read');
      const rows = await this.vault.currentSet(key);
      if (!rows.length) throw notFound(key);
      note.versionId = rows[0].id;
      return Promise.all(rows.map(async (r) => this.reveal(ctx, await this.vault.toCredential(r))));
    });
  }

  /** A version by its id. A version the caller may not read is refused without naming its credential. */
  async getVersion(versionId: string, ctx: CredentialContext): Promise<Credential> {
    return this.run(ctx, 'get', null, async (note) => {
      const row = await this.versionFor(versionId, ctx, 'read', note);
      return this.reveal(ctx, await this.vault.toCredential(row));
    });
  }

  async find(
    input: { path: string },
    ctx: CredentialContext,
  ): Promise<Array<{ name: string; version_created_at: string }>> {
    return this.findCredentials({ path: input.path }, ctx);
  }

  /** CredHub's find: by path prefix or by part of the name, optionally only certificates expiring soon. */
  async findCredentials(
    options: FindOptions,
    ctx: CredentialContext,
  ): Promise<Array<{ name: string; version_created_at: string }>> {
    return this.run(ctx, 'find', null, async (note) => {
      const prefix = options.nameLike === undefined ? normalizePrefix(options.path ?? '/') : undefined;
      note.name = prefix ?? null;
      if (
        options.expiresWithinDays !== undefined &&
        (!Number.isInteger(options.expiresWithinDays) || options.expiresWithinDays < 0)
      ) {
        throw new SlipwayError(
          'InvalidInput',
          'The query parameter expires-within-days was not valid for this request.',
          { field: 'expires-within-days' },
        );
      }
      note.details = {
        ...(prefix ? { path: prefix } : { name_like: options.nameLike }),
        ...(options.expiresWithinDays !== undefined ? { expires_within_days: options.expiresWithinDays } : {}),
      };
      const expiresBefore =
        options.expiresWithinDays === undefined
          ? undefined
          : new Date(this.generation.now() + options.expiresWithinDays * 86_400_000).toISOString();
      const readable = await this.access.readable(ctx);
      const rows = await this.vault.find({ prefix, nameLike: options.nameLike, expiresBefore });
      return rows.filter((r) => readable(r.name));
    });
  }

  /** The contract's certificateFacts: public halves of the certificates in use under a path, one audit record. */
  async certificateFacts(input: { path: string }, ctx: CredentialContext): Promise<CertificateFact[]> {
    return this.run(ctx, 'find', null, async (note) => {
      const prefix = normalizePrefix(input.path);
      note.name = prefix;
      note.details = { path: prefix, certificates: true };
      const readable = await this.access.readable(ctx);
      return (await this.vault.currentCertificates(prefix)).filter((c) => readable(c.name));
    });
  }

  /** Certificates the caller may read (or the one named), with signer, signed certificates and versions. */
  async listCertificates(ctx: CredentialContext, name?: string): Promise<CertificateListing[]> {
    return this.run(ctx, 'list_certificates', name ?? null, async (_note) => {
      let rows;
      const readable = await this.access.readable(ctx);
      if (name !== undefined) {
        const key = normalizeName(name);
        await this.access.require(ctx, key, 'read');
        rows = await this.vault.certificates(key);
        if (!rows.length) throw notFound(key);
      } else {
        rows = (await this.vault.certificates()).filter((r) => readable(r.name));
      }
      // Listing all: who each one signs, among those listed (as CredHub); one name: everything it signs.
      const signs = new Map<string, string[]>();
      if (name === undefined)
        for (const r of rows)
          if (r.ca_name && r.ca_name !== r.name) signs.set(r.ca_name, [...(signs.get(r.ca_name) ?? []), r.name]);
      return Promise.all(
        rows.map(async (r) => ({
          name: r.name,
          id: r.uuid,
          signed_by: r.ca_name ?? '',
          signs: name === undefined ? (signs.get(r.name) ?? []) : (await this.vault.signedBy(r.name)).filter(readable),
          versions: r.versions,
        })),
      );
    });
  }

  /**
   * The name of the certificate with this credential uuid (CredHub's certificate `id`), for a caller who may
   * read it; a missing id and one the caller may not read get the same NotFound.
   */
  async nameOfCertificate(uuid: string, ctx: CredentialContext): Promise<string> {
    const row = await this.vault.credentialByUuid(uuid);
    if (row?.type !== 'certificate' || !(await this.access.allows(ctx, row.name, 'read'))) throw credentialNotFound();
    return row.name;
  }

  // ---- writing ----

  async set<T extends CredentialType>(
    input: { name: string; type: T; value: CredentialValueByType[T]; metadata?: Record<string, unknown> },
    ctx: CredentialContext,
  ): Promise<Credential<T>> {
    return this.run(ctx, 'set', required(input.name), async (note, name) => {
      checkType(input.type, 'set');
      note.details = { type: input.type };
      let value = checkSetValue(input.type, input.value);
      await this.access.require(ctx, name, 'write');
      if (input.type === 'certificate') value = await this.completeCertificate(name, value as CertificateValue, ctx);
      return this.exclusive(name, async () => {
        const { row, sealed } = await this.vault.write({
          name,
          type: input.type,
          value,
          parameters: null,
          metadata: input.metadata,
          actor: ctx.actor,
        });
        note.versionId = row.id;
        return (await this.vault.toCredential(row, sealed)) as Credential<T>;
      });
    });
  }

  async generate<T extends Exclude<CredentialType, 'value' | 'json'>>(
    input: {
      name: string;
      type: T;
      parameters?: GenerationParametersByType[T];
      mode?: GenerateMode;
      metadata?: Record<string, unknown>;
    },
    ctx: CredentialContext,
  ): Promise<Credential<T>> {
    return this.run(ctx, 'generate', required(input.name), async (note, name) => {
      checkType(input.type, 'generate');
      const mode = input.mode ?? 'converge';
      if (!MODES.includes(mode)) {
        throw new SlipwayError(
          'InvalidInput',
          "The request does not include a valid mode. Valid values for generate include 'overwrite', 'no-overwrite' and 'converge'.",
          { field: 'mode' },
        );
      }
      const parameters = checkParameters(input.type, input.parameters) as Record<string, unknown>;
      note.details = { type: input.type, mode };
      await this.access.require(ctx, name, 'write');
      const caName = await this.signerName(parameters, ctx);
      return this.exclusive(name, async () => {
        const current = await this.vault.current(name);
        if (current) {
          if (current.type !== input.type) throw typeMismatch(name, current.type, input.type);
          if (mode === 'no-overwrite') return this.unchanged(note, current) as Promise<Credential<T>>;
          if (mode === 'converge') {
            const sealed = await this.vault.unseal(current);
            if (sameParameters(sealed.parameters, parameters) && !(await this.signerChanged(current, caName))) {
              return this.unchanged(note, current, sealed) as Promise<Credential<T>>;
            }
          }
        }
        const value = await this.produce(name, input.type, parameters, caName ? await this.signer(caName) : undefined);
        const { row, sealed } = await this.vault.write({
          name,
          type: input.type,
          value,
          parameters,
          metadata: input.metadata,
          actor: ctx.actor,
        });
        note.versionId = row.id;
        return (await this.vault.toCredential(row, sealed)) as Credential<T>;
      });
    });
  }

  /** A new version from the parameters the current one was generated with (CredHub's regenerate). */
  async regenerate(
    name: string,
    ctx: CredentialContext,
    options: CertificateRegenerateOptions = {},
  ): Promise<Credential> {
    return this.run(ctx, 'regenerate', required(name), async (note, key) => {
      await this.access.require(ctx, key, 'write');
      return this.exclusive(key, async () => {
        const current = await this.vault.current(key);
        if (!current) throw notFound(key);
        const sealed = await this.vault.unseal(current);
        if (!sealed.parameters) throw cannotRegenerate(current.type as CredentialType);
        const type = current.type as GeneratedType;
        const parameters: Record<string, unknown> = { ...sealed.parameters };
        // A user keeps its username; it is not a parameter, so converge still compares what was asked.
        const produceWith =
          type === 'user' && parameters.username === undefined
            ? { ...parameters, username: (sealed.value as UserValue).username }
            : parameters;
        if (type === 'certificate') {
          if (options.keyLength !== undefined) parameters.key_length = options.keyLength;
          if (options.duration !== undefined) parameters.duration = options.duration;
          checkParameters('certificate', parameters);
        } else if (options.transitional || options.keyLength !== undefined || options.duration !== undefined) {
          throw new SlipwayError(
            'InvalidInput',
            `only certificates take set_as_transitional, key_length and duration; ${key} is a ${type}`,
            { field: 'set_as_transitional' },
          );
        }
        if (options.transitional) {
          const set = await this.vault.currentSet(key);
          if (set.some((v) => v.transitional))
            throw new SlipwayError('InvalidInput', 'The maximum number of transitional versions for a given CA is 1.', {
              field: 'set_as_transitional',
            });
        }
        const caName = await this.signerName(parameters, ctx);
        note.details = {
          type,
          ...(options.transitional ? { transitional: true } : {}),
          ...(caName ? { signer: caName } : {}),
        };
        const signer = caName ? await this.signer(caName, options.allowTransitionalParentToSign) : undefined;
        const value = await this.produce(key, type, produceWith, signer);
        const metadata =
          options.metadata !== undefined ? options.metadata : current.metadata ? JSON.parse(current.metadata) : null;
        const written = await this.vault.write({
          name: key,
          type,
          value,
          parameters,
          metadata,
          actor: ctx.actor,
          transitional: options.transitional,
        });
        note.versionId = written.row.id;
        return this.vault.toCredential(written.row, written.sealed);
      });
    });
  }

  /**
   * Regenerates every certificate `signedBy` signed, and below any intermediate CA among them, after
   * checking write permission on all of them (nothing is regenerated unless everything may be).
   */
  async bulkRegenerate(input: { signedBy: string; onlyOutdated?: boolean }, ctx: CredentialContext): Promise<string[]> {
    return this.run(
      ctx,
      'bulk_regenerate',
      required(input.signedBy),
      async (note, ca) => {
        await this.access.require(ctx, ca, 'read');
        const refused = await this.unwritableTree(ctx, ca, new Set([ca]));
        // The refusal neither names nor counts what the CA signed: those names are not the caller's to learn.
        if (refused) throw refusal('write');
        const names = await this.regenerateTree(ctx, ca, input.onlyOutdated ?? false, new Set([ca]));
        note.details = { regenerated: names.length, ...(input.onlyOutdated ? { only_outdated: true } : {}) };
        return names.sort();
      },
      'signed_by',
    );
  }

  async setTransitionalVersion(name: string, versionId: string | null, ctx: CredentialContext): Promise<Credential[]> {
    return this.run(ctx, 'update_transitional_version', required(name), async (note, key) => {
      await this.access.require(ctx, key, 'write');
      const credential = await this.vault.credential(key);
      if (!credential) throw notFound(key);
      if (credential.type !== 'certificate')
        throw new SlipwayError(
          'InvalidInput',
          `${key} is a ${credential.type}; only certificates have transitional versions`,
          { field: 'name' },
        );
      if (versionId !== null) {
        const row = await this.vault.version(versionId);
        if (!row || row.name !== key) {
          throw new SlipwayError(
            'InvalidInput',
            'The request could not be completed because the specified version does not exist or does not belong to the specified credential.',
            { field: 'version' },
          );
        }
      }
      note.versionId = versionId;
      await this.exclusive(key, () => this.vault.setTransitional(key, versionId));
      return Promise.all(
        (await this.vault.currentSet(key)).map(async (r) => this.reveal(ctx, await this.vault.toCredential(r))),
      );
    });
  }

  async delete(name: string, ctx: CredentialContext): Promise<void> {
    await this.deleteName(name, ctx);
  }

  /** Deletes a name with all its versions; false when it did not exist. */
  async deleteName(name: string, ctx: CredentialContext): Promise<boolean> {
    return this.run(ctx, 'delete', required(name), async (note, key) => {
      await this.access.require(ctx, key, 'delete');
      const existed = await this.exclusive(key, () => this.vault.deleteName(key));
      if (!existed) note.result = 'not_found';
      return existed;
    });
  }

  /** Deletes one version. A certificate keeps at least one. */
  async deleteVersion(versionId: string, ctx: CredentialContext): Promise<Credential> {
    return this.run(ctx, 'delete_version', null, async (note) => {
      const row = await this.versionFor(versionId, ctx, 'delete', note);
      const credential = await this.vault.toCredential(row);
      if (row.type === 'certificate' && (await this.vault.versions(row.name, 2)).length < 2) {
        throw new SlipwayError('InvalidInput', 'The minimum number of versions for a Certificate is 1.', {
          field: 'id',
        });
      }
      await this.exclusive(row.name, () => this.vault.deleteVersion(row));
      return credential;
    });
  }

  /** Replaces CredHub `credhub-ref`s in a VCAP_SERVICES-shaped object by the referenced JSON credentials. */
  async interpolate(services: Record<string, unknown>, ctx: CredentialContext): Promise<Record<string, unknown>> {
    const out: Record<string, unknown> = { ...services };
    for (const [service, bindings] of Object.entries(services)) {
      if (!Array.isArray(bindings)) continue;
      out[service] = await Promise.all(
        bindings.map(async (binding) => {
          const credentials = isObject(binding) && isObject(binding.credentials) ? binding.credentials : undefined;
          const ref = credentials?.['credhub-ref'] ?? credentials?.credhub_ref;
          if (typeof ref !== 'string') return binding;
          const refName = ref.replace(/^\(\(/, '').replace(/\)\)$/, '');
          const value = await this.run(ctx, 'interpolate', refName, async (note, key) => {
            await this.access.require(ctx, key, 'read');
            const row = await this.vault.current(key);
            if (!row) throw notFound(key);
            note.versionId = row.id;
            if (row.type !== 'json')
              throw new SlipwayError(
                'InvalidInput',
                `The credential '${key}' is not the expected type. A credhub-ref credential must be of type 'JSON'.`,
                { field: 'credhub-ref' },
              );
            return (await this.vault.unseal(row)).value;
          });
          return { ...(binding as Record<string, unknown>), credentials: value };
        }),
      );
    }
    return out;
  }

  // ---- permissions (the contract's verbs; the CredHub v2 API is in `permissions`) ----

  /** Adds operations for an actor on a path, merged with what it has (the engine's grant on cluster creation). */
  grant(
    input: { actor: string; path: string; operations: PermissionOperation[] },
    ctx: CredentialContext,
  ): Promise<CredentialPermission> {
    return this.permissions.grant(input, ctx);
  }

  revoke(input: { path: string; actor?: string }, ctx: CredentialContext): Promise<number> {
    return this.permissions.revoke(input, ctx);
  }

  // ---- audit and keys ----

  /** Audit events, newest first. An admin sees everyone's; anyone else only their own. */
  async auditEvents(filter: AuditFilter, ctx: CredentialContext): Promise<AuditEvent[]> {
    if (!this.access.isPrivileged(ctx)) {
      if (filter.actor && filter.actor !== ctx.actor) {
        throw new SlipwayError('Forbidden', `${ctx.actor} may read only its own audit events`, {
          hint: 'Leave out the actor filter, or ask an admin.',
        });
      }
      filter = { ...filter, actor: ctx.actor };
    }
    return this.auditLog.list(filter);
  }

  /** How many versions each encryption key holds (CredHub's key-usage). Admins only. */
  async keyUsage(ctx: CredentialContext): Promise<KeyUsage> {
    this.requirePrivileged(ctx, 'see encryption key usage');
    return keyUsage(this.options.db, this.options.sealer);
  }

  /** Re-encrypts every value under the active key, online; see rotateEncryptionKeys. Admins only. */
  async rotateEncryptionKeys(
    ctx: CredentialContext,
    options: { batchSize?: number; signal?: AbortSignal; onProgress?: (p: KeyRotationProgress) => void } = {},
  ): Promise<KeyRotationProgress> {
    return this.run(ctx, 'rotate_encryption_keys', null, async (note) => {
      this.requirePrivileged(ctx, 'rotate encryption keys');
      const progress = await rotateEncryptionKeys(this.options.db, this.options.sealer, options);
      note.details = {
        rotated: progress.rotated,
        remaining: progress.remaining,
        unknown: progress.unknown,
        active_key: this.options.sealer.activeKeyId,
      };
      return progress;
    });
  }

  /** Runs work in the background until destroy (key rotation at start). */
  runInBackground(work: (signal: AbortSignal) => Promise<unknown>): void {
    const abort = new AbortController();
    const entry = {
      abort,
      promise: work(abort.signal)
        .catch(() => {})
        .finally(() => this.background.delete(entry)),
    };
    this.background.add(entry);
  }

  /** Resolves when the pool of ready RSA keys is full (benchmarks measure issuance, not a cold pool). */
  async warmKeyPool(): Promise<void> {
    await this.generation.rsaPool?.warm();
  }

  /** Fills columns the first schema lacked; at start. */
  backfill(): Promise<number> {
    return this.vault.backfillCertificateFacts();
  }

  async destroy(): Promise<void> {
    for (const job of this.background) job.abort.abort();
    await Promise.all([...this.background].map((j) => j.promise));
    await Promise.allSettled(this.locks.values());
    await this.generation.rsaPool?.close();
    await this.auditLog.drain();
    if (!this.options.sharedDb) await this.options.db.destroy();
  }

  // ---- internals ----

  private run<T>(
    ctx: CredentialContext,
    operation: AuditOperation,
    rawName: unknown,
    work: (note: AuditNote, name: string) => Promise<T>,
    field = 'name',
  ): Promise<T> {
    return audited(this.auditLog, ctx, operation, rawName, work, field);
  }

  private async unchanged(note: AuditNote, row: VersionRow, sealed?: Sealed): Promise<Credential> {
    note.result = 'unchanged';
    note.versionId = row.id;
    return this.vault.toCredential(row, sealed);
  }

  /** A CA's key stays with the engine: anyone else reading a CA gets its certificate with `private_key` null. */
  private reveal(ctx: CredentialContext, credential: Credential): Credential {
    if (credential.type !== 'certificate' || this.access.revealsKey(ctx, credential.name)) return credential;
    return {
      ...credential,
      value: { ...(credential.value as CertificateValue), private_key: null as unknown as string },
    } as Credential;
  }

  private async versionFor(
    versionId: string,
    ctx: CredentialContext,
    operation: PermissionOperation,
    note: AuditNote,
  ): Promise<VersionRow> {
    const row = typeof versionId === 'string' ? await this.vault.version(versionId) : undefined;
    if (!row) throw credentialNotFound();
    note.name = row.name;
    note.versionId = row.id;
    // A version the caller may not read is answered as a missing one; one it may read but not change, 403.
    if (!(await this.access.allows(ctx, row.name, 'read'))) throw credentialNotFound();
    if (!(await this.access.allows(ctx, row.name, operation)))
      throw refusal(operation === 'delete' ? 'write' : operation);
    return row;
  }

  private requirePrivileged(ctx: CredentialContext, what: string): void {
    if (!this.access.isPrivileged(ctx))
      throw new SlipwayError('Forbidden', `${ctx.actor} may not ${what}`, { hint: 'Ask an admin (clusters.admin).' });
  }

  /** The normalized `ca` of certificate parameters (written back), after checking read access to it. */
  private async signerName(parameters: Record<string, unknown>, ctx: CredentialContext): Promise<string | undefined> {
    if (typeof parameters.ca !== 'string') return undefined;
    const caName = normalizeName(parameters.ca, 'parameters.ca');
    parameters.ca = caName;
    await this.access.requireSigner(ctx, caName);
    return caName;
  }

  /** The version of `caName` that signs: its current one, or its transitional one when allowed. */
  private async signer(caName: string, allowTransitional = false): Promise<Signer> {
    const set = await this.vault.currentSet(caName);
    const row = (allowTransitional ? set.find((r) => r.transitional) : undefined) ?? set[0];
    if (!row)
      throw new SlipwayError('NotFound', `the signing CA ${caName} does not exist`, {
        field: 'parameters.ca',
        hint: 'Generate the CA first (is_ca: true).',
      });
    if (row.type !== 'certificate')
      throw new SlipwayError(
        'InvalidInput',
        `The name given for the CA does not reference a CA type credential. (${caName} is a ${row.type})`,
        { field: 'parameters.ca' },
      );
    const value = (await this.vault.unseal(row)).value as CertificateValue;
    return { name: caName, certificate: value.certificate, privateKey: value.private_key };
  }

  /** As CredHub's converge: a leaf is regenerated when its CA now signs with another version. */
  private async signerChanged(current: VersionRow, caName: string | undefined): Promise<boolean> {
    if (!caName || caName === current.name) return false;
    const ca = await this.vault.current(caName);
    return Boolean(ca && ca.certificate !== current.ca_certificate);
  }

  private async produce(
    name: string,
    type: GeneratedType,
    parameters: Record<string, unknown>,
    signer?: Signer,
  ): Promise<unknown> {
    switch (type) {
      case 'password':
        return generatePassword(parameters);
      case 'user':
        return generateUser(parameters);
      case 'rsa':
        return generateRsa(parameters, this.generation.rsaPool);
      case 'ssh':
        return generateSsh(parameters);
      case 'certificate':
        return generateCertificate(name, parameters as CertificateParameters, signer, this.generation);
    }
  }

  /** A set certificate: `ca_name` resolved to the CA's certificate, which must have signed it. */
  private async completeCertificate(
    name: string,
    value: CertificateValue,
    ctx: CredentialContext,
  ): Promise<CertificateValue> {
    if (!value.ca_name) {
      const selfSignedCa = value.certificate && value.ca === null && isSignedBy(value.certificate, value.certificate);
      return selfSignedCa ? { ...value, ca: value.certificate, ca_name: name } : value;
    }
    const caName = normalizeName(value.ca_name, 'value.ca_name');
    await this.access.require(ctx, caName, 'read');
    const ca = await this.vault.current(caName);
    if (!ca) throw new SlipwayError('NotFound', `the CA ${caName} does not exist`, { field: 'value.ca_name' });
    if (ca.type !== 'certificate' || !ca.certificate)
      throw new SlipwayError('InvalidInput', 'The name given for the CA does not reference a CA type credential.', {
        field: 'value.ca_name',
      });
    if (value.certificate && !isSignedBy(value.certificate, ca.certificate)) {
      throw new SlipwayError(
        'InvalidInput',
        "The provided certificate was not signed by the CA specified in the 'ca_name' property.",
        { field: 'value.certificate' },
      );
    }
    return { ...value, ca: ca.certificate, ca_name: caName };
  }

  /** How many certificates under `caName` (recursively) the caller may not write. */
  private async unwritableTree(ctx: CredentialContext, caName: string, seen: Set<string>): Promise<number> {
    let refused = 0;
    for (const leaf of await this.vault.signedBy(caName)) {
      if (seen.has(leaf)) continue;
      seen.add(leaf);
      if (!(await this.access.allows(ctx, leaf, 'write'))) refused++;
      const row = await this.vault.current(leaf);
      if (row?.is_ca) refused += await this.unwritableTree(ctx, leaf, seen);
    }
    return refused;
  }

  private async regenerateTree(
    ctx: CredentialContext,
    caName: string,
    onlyOutdated: boolean,
    seen: Set<string>,
  ): Promise<string[]> {
    const leaves = (await this.vault.signedBy(caName)).filter((n) => !seen.has(n));
    leaves.forEach((n) => seen.add(n));
    const caCertificate = (await this.vault.current(caName))?.certificate;
    const regenerated: string[] = [];
    const intermediates: string[] = [];
    await forEachLimit(leaves, BULK_CONCURRENCY, async (leaf) => {
      const row = await this.vault.current(leaf);
      if (!row) return;
      if (onlyOutdated && row.ca_certificate === caCertificate) return;
      const fresh = await this.regenerate(leaf, ctx);
      regenerated.push(fresh.name);
      if (row.is_ca) intermediates.push(leaf);
    });
    for (const ca of intermediates) regenerated.push(...(await this.regenerateTree(ctx, ca, onlyOutdated, seen)));
    return regenerated;
  }

  private exclusive<T>(name: string, work: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(name) ?? Promise.resolve();
    const next = previous.catch(() => {}).then(work);
    this.locks.set(name, next);
    return next.finally(() => {
      if (this.locks.get(name) === next) this.locks.delete(name);
    });
  }
}

/** A name the caller must give: null from a JSON body is "none given", not "no name needed". */
function required(name: unknown): unknown {
  return name === null ? undefined : name;
}

/** Missing and forbidden read alike (CredHub's one message): the name is not echoed. */
function notFound(_name: string, _versionId?: string): SlipwayError {
  return credentialNotFound();
}

function cannotRegenerate(type: CredentialType): SlipwayError {
  const message =
    type === 'password'
      ? 'The password could not be regenerated because the value was statically set. Only generated passwords may be regenerated.'
      : type === 'user'
        ? 'The user could not be regenerated because the value was statically set. Only generated users may be regenerated.'
        : type === 'certificate'
          ? 'The credential could not be regenerated because the certificate was statically set and is not self-signed or is invalid.'
          : `The credential could not be regenerated because its ${type} value was statically set.`;
  return new SlipwayError('InvalidInput', message, { field: 'name' });
}

function checkType(type: string, verb: 'set' | 'generate'): void {
  const allowed: readonly string[] = verb === 'set' ? CREDENTIAL_TYPES : GENERATED_TYPES;
  if (allowed.includes(type)) return;
  if (verb === 'generate' && CREDENTIAL_TYPES.includes(type as CredentialType)) {
    throw new SlipwayError(
      'InvalidInput',
      'Credentials of this type cannot be generated. Please adjust the credential type and retry your request.',
      { field: 'type' },
    );
  }
  throw new SlipwayError(
    'InvalidInput',
    verb === 'set'
      ? "The request does not include a valid type. Valid values include 'value', 'json', 'password', 'user', 'certificate', 'ssh' and 'rsa'."
      : "The request does not include a valid type. Valid values for generate include 'password', 'user', 'certificate', 'ssh' and 'rsa'.",
    { field: 'type' },
  );
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function sameParameters(a: unknown, b: unknown): boolean {
  return stable(a ?? null) === stable(b ?? null);
}

function stable(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stable).join(',')}]`;
  if (isObject(v))
    return `{${Object.keys(v)
      .filter((k) => v[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stable(v[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

async function forEachLimit<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await work(items[next++]);
  });
  await Promise.all(lanes);
}
