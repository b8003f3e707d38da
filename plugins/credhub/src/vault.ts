import { randomUUID } from 'node:crypto';
import { sql, type Transaction } from 'kysely';
import { describeCertificate, pemBundle } from '@slipway/pki';
import { SlipwayError, type CertificateValue, type Credential, type CredentialType } from '@slipway/contracts';
import type { ValueSealer } from './encryption/sealer.js';
import { MAX_VALUE_BYTES } from './values.js';
import type { CredentialDb, CredentialRow, CredhubSchema, VersionRow } from './store/schema.js';

/** What a version seals: its value and, when generated, the parameters it was generated with. */
export interface Sealed {
  value: unknown;
  parameters: Record<string, unknown> | null;
}

export interface NewVersion {
  name: string;
  type: CredentialType;
  value: unknown;
  parameters: Record<string, unknown> | null;
  metadata?: Record<string, unknown> | null;
  actor: string;
  transitional?: boolean;
}

/** What a certificate Credential from this store carries besides the contract's fields (CredHub's view). */
export interface CertificateFacts {
  certificate_authority: boolean;
  self_signed: boolean;
  generated: boolean;
}

/** Public facts of a certificate version, for listings (CredHub's certificate version view). */
export interface CertificateVersionInfo {
  id: string;
  expiry_date: string;
  transitional: boolean;
  certificate_authority: boolean;
  self_signed: boolean;
  generated: boolean;
}

export interface VaultOptions {
  concatenateCas: boolean;
  /** Called inside every write's transaction, last: the audit event commits with the data or not at all. */
  inTransaction?: (trx: Transaction<CredhubSchema>, learned: { versionId?: string }) => Promise<void>;
}

const CURRENT_ORDER = sql`transitional asc, seq desc`;

/**
 * Versions as stored: sealed on the way in, opened on the way out. No access control here; the provider
 * decides who may call what. A certificate's "current" version is its newest non-transitional one (the
 * one that signs), as in CredHub; a transitional version is only ever current alongside it.
 */
export class CredentialVault {
  constructor(
    private readonly db: CredentialDb,
    private readonly sealer: ValueSealer,
    private readonly options: VaultOptions,
  ) {}

  credential(name: string): Promise<CredentialRow | undefined> {
    return this.db.selectFrom('credentials').selectAll().where('name', '=', name).executeTakeFirst();
  }

  credentialByUuid(uuid: string): Promise<CredentialRow | undefined> {
    return this.db.selectFrom('credentials').selectAll().where('uuid', '=', uuid).executeTakeFirst();
  }

  /** The current version: for a certificate the newest non-transitional one, else the newest. */
  async current(name: string): Promise<VersionRow | undefined> {
    return (await this.db
      .selectFrom('credential_versions')
      .selectAll()
      .where('name', '=', name)
      .orderBy(CURRENT_ORDER)
      .limit(1)
      .executeTakeFirst()) as VersionRow | undefined;
  }

  /** The current version and the transitional one, if any (CredHub's `current=true`), in one query. */
  async currentSet(name: string): Promise<VersionRow[]> {
    const rows = (await this.db
      .selectFrom('credential_versions')
      .selectAll()
      .where('name', '=', name)
      .where((eb) =>
        eb.or([
          eb('transitional', '=', 1),
          eb(
            'seq',
            '=',
            eb
              .selectFrom('credential_versions')
              .select((s) => s.fn.max('seq').as('m'))
              .where('name', '=', name)
              .where('transitional', '=', 0),
          ),
        ]),
      )
      .orderBy(CURRENT_ORDER)
      .execute()) as VersionRow[];
    // Only transitional versions (a CA set as transitional first): the newest is current, as CredHub.
    return rows.length > 2 ? rows.slice(0, 2) : rows;
  }

  async version(id: string): Promise<VersionRow | undefined> {
    return (await this.db.selectFrom('credential_versions').selectAll().where('id', '=', id).executeTakeFirst()) as
      | VersionRow
      | undefined;
  }

  /** Newest first. */
  async versions(name: string, limit?: number): Promise<VersionRow[]> {
    let q = this.db.selectFrom('credential_versions').selectAll().where('name', '=', name).orderBy('seq', 'desc');
    if (limit !== undefined) q = q.limit(limit);
    return (await q.execute()) as VersionRow[];
  }

  async unseal(row: VersionRow): Promise<Sealed> {
    const plaintext = await this.sealer.open(row, aadOf(row.id, row.name));
    return JSON.parse(plaintext.toString('utf8')) as Sealed;
  }

  async toCredential(row: VersionRow, sealed?: Sealed): Promise<Credential> {
    const { value } = sealed ?? (await this.unseal(row));
    const credential: Credential = {
      id: row.id,
      name: row.name,
      type: row.type as CredentialType,
      value: value as never,
      version_created_at: row.created_at,
      metadata: row.metadata ? JSON.parse(row.metadata) : null,
    };
    if (row.type === 'certificate') {
      credential.transitional = row.transitional === 1;
      if (row.expiry_date) credential.expiry_date = row.expiry_date;
      credential.value = (await this.withTrustedCas(row, value as CertificateValue)) as never;
      Object.assign(credential, {
        certificate_authority: row.is_ca === 1,
        self_signed: row.self_signed === 1,
        generated: row.generated === 1,
      } satisfies CertificateFacts);
    }
    return credential;
  }

  /**
   * During a rotation a leaf's `ca` lists its signer and the signing CA's other trusted version, so
   * whoever installs it trusts both sides (CredHub's `concatenate_cas`).
   */
  private async withTrustedCas(row: VersionRow, value: CertificateValue): Promise<CertificateValue> {
    const caName = value.ca_name;
    if (!this.options.concatenateCas || !caName || caName === row.name) return value;
    const set = await this.currentSet(caName);
    if (set.length < 2) return value;
    return { ...value, ca: pemBundle([value.ca, ...set.map((v) => v.certificate)]) };
  }

  /** Stores a new version (and the credential on its first version); returns the row. */
  async write(input: NewVersion): Promise<{ row: VersionRow; sealed: Sealed }> {
    const id = randomUUID();
    const sealed: Sealed = { value: input.value, parameters: input.parameters };
    const plaintext = Buffer.from(JSON.stringify(sealed));
    if (plaintext.length > MAX_VALUE_BYTES)
      throw new SlipwayError('InvalidInput', 'Value exceeds the maximum size.', { field: 'value' });
    const cert =
      input.type === 'certificate' ? certificateFacts(input.name, input.value as CertificateValue) : undefined;
    const now = new Date().toISOString();
    const sealedValue = await this.sealer.seal(plaintext, aadOf(id, input.name));
    return this.db.transaction().execute(async (trx) => {
      let credential = await trx
        .selectFrom('credentials')
        .selectAll()
        .where('name', '=', input.name)
        .executeTakeFirst();
      if (!credential) {
        credential = {
          uuid: randomUUID(),
          name: input.name,
          type: input.type,
          ca_name: cert?.caName ?? null,
          created_at: now,
        };
        await trx.insertInto('credentials').values(credential).execute();
      } else if (credential.type !== input.type) {
        throw typeMismatch(input.name, credential.type, input.type);
      } else if (cert && !input.transitional) {
        await trx
          .updateTable('credentials')
          .set({ ca_name: cert.caName })
          .where('uuid', '=', credential.uuid)
          .execute();
      }
      if (input.transitional)
        await trx
          .updateTable('credential_versions')
          .set({ transitional: 0 })
          .where('name', '=', input.name)
          .where('transitional', '=', 1)
          .execute();
      const row = {
        id,
        credential_uuid: credential.uuid,
        name: input.name,
        type: input.type,
        ...sealedValue,
        metadata: input.metadata ? JSON.stringify(input.metadata) : null,
        transitional: input.transitional ? 1 : 0,
        expiry_date: cert?.expiry ?? null,
        certificate: cert?.certificate ?? null,
        ca_certificate: cert?.caCertificate ?? null,
        is_ca: cert?.isCa ? 1 : 0,
        self_signed: cert?.selfSigned ? 1 : 0,
        generated: input.parameters ? 1 : 0,
        created_by: input.actor,
        created_at: now,
      };
      const { seq } = await trx
        .insertInto('credential_versions')
        .values(row)
        .returning('seq')
        .executeTakeFirstOrThrow();
      await this.options.inTransaction?.(trx, { versionId: id });
      return { row: { ...row, seq } as VersionRow, sealed };
    });
  }

  /** Deletes a name with every version; false when there was none. */
  async deleteName(name: string): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('credential_versions').where('name', '=', name).execute();
      const result = await trx.deleteFrom('credentials').where('name', '=', name).executeTakeFirst();
      const existed = Number(result.numDeletedRows) > 0;
      // A delete of nothing is audited as not_found by its caller, outside this transaction.
      if (existed) await this.options.inTransaction?.(trx, {});
      return existed;
    });
  }

  async deleteVersion(row: VersionRow): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('credential_versions').where('id', '=', row.id).execute();
      const left = await trx
        .selectFrom('credential_versions')
        .select('id')
        .where('name', '=', row.name)
        .limit(1)
        .executeTakeFirst();
      if (!left) await trx.deleteFrom('credentials').where('name', '=', row.name).execute();
      await this.options.inTransaction?.(trx, { versionId: row.id });
    });
  }

  /** Makes `versionId` the only transitional version of `name`, or none with null. */
  async setTransitional(name: string, versionId: string | null): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('credential_versions')
        .set({ transitional: 0 })
        .where('name', '=', name)
        .where('transitional', '=', 1)
        .execute();
      if (versionId)
        await trx.updateTable('credential_versions').set({ transitional: 1 }).where('id', '=', versionId).execute();
      await this.options.inTransaction?.(trx, {});
    });
  }

  /** Names of the certificates whose current version `caName` signed (not itself). */
  async signedBy(caName: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('credentials')
      .select('name')
      .where('ca_name', '=', caName)
      .where('name', '!=', caName)
      .orderBy('name')
      .execute();
    return rows.map((r) => r.name);
  }

  /** Names with the time of their newest version, newest first (CredHub's find). */
  async find(filter: {
    prefix?: string;
    nameLike?: string;
    expiresBefore?: string;
  }): Promise<Array<{ name: string; version_created_at: string }>> {
    let q = this.db
      .selectFrom('credential_versions')
      .select(['name', (eb) => eb.fn.max('created_at').as('version_created_at')])
      .groupBy('name');
    const prefix = filter.prefix;
    if (prefix && prefix !== '/')
      q = q.where((eb) => eb(eb.fn('substr', ['name', eb.val(1), eb.val(prefix.length)]), '=', prefix));
    // "Contains", portably: SQLite has instr, PostgreSQL strpos, both have replace (and LIKE differs in case
    // rules and escapes). A name contains the text when taking the text out of it changes it.
    if (filter.nameLike) {
      q = q.where((eb) =>
        eb(
          eb.fn('replace', [eb.fn('lower', ['name']), eb.val(filter.nameLike!.toLowerCase()), eb.val('')]),
          '!=',
          eb.fn('lower', ['name']),
        ),
      );
    }
    if (filter.expiresBefore)
      q = q.where('expiry_date', 'is not', null).where('expiry_date', '<=', filter.expiresBefore);
    const rows = await q.orderBy('version_created_at', 'desc').orderBy('name').execute();
    return rows.map((r) => ({ name: r.name, version_created_at: String(r.version_created_at) }));
  }

  /** The versions in use of every certificate under `prefix` (a normalized prefix), public halves only. */
  async currentCertificates(
    prefix: string,
  ): Promise<Array<{ name: string; ca_name: string | null; certificate: string; transitional: boolean }>> {
    let q = this.db
      .selectFrom('credentials')
      .select(['name', 'ca_name'])
      .where('type', '=', 'certificate')
      .orderBy('name');
    if (prefix !== '/')
      q = q.where((eb) => eb(eb.fn('substr', ['name', eb.val(1), eb.val(prefix.length)]), '=', prefix));
    const out: Array<{ name: string; ca_name: string | null; certificate: string; transitional: boolean }> = [];
    for (const c of await q.execute()) {
      for (const row of await this.currentSet(c.name)) {
        if (row.certificate)
          out.push({
            name: c.name,
            ca_name: c.ca_name,
            certificate: row.certificate,
            transitional: row.transitional === 1,
          });
      }
    }
    return out;
  }

  /** Every certificate credential (or one), with its versions' public facts, newest first. */
  async certificates(name?: string): Promise<Array<CredentialRow & { versions: CertificateVersionInfo[] }>> {
    let q = this.db.selectFrom('credentials').selectAll().where('type', '=', 'certificate').orderBy('name');
    if (name) q = q.where('name', '=', name);
    const credentials = await q.execute();
    if (!credentials.length) return [];
    const versions = await this.db
      .selectFrom('credential_versions')
      .select(['id', 'credential_uuid', 'expiry_date', 'transitional', 'is_ca', 'self_signed', 'generated'])
      .where(
        'credential_uuid',
        'in',
        credentials.map((c) => c.uuid),
      )
      .orderBy('seq', 'desc')
      .execute();
    return credentials.map((c) => ({
      ...c,
      versions: versions
        .filter((v) => v.credential_uuid === c.uuid)
        .map((v) => ({
          id: v.id,
          expiry_date: v.expiry_date ?? '',
          transitional: v.transitional === 1,
          certificate_authority: v.is_ca === 1,
          self_signed: v.self_signed === 1,
          generated: v.generated === 1,
        })),
    }));
  }

  /**
   * Fills the public certificate columns of versions written by the first schema (one pass at start;
   * it needs the keys, which migrations do not have).
   */
  async backfillCertificateFacts(): Promise<number> {
    const rows = (await this.db
      .selectFrom('credential_versions')
      .selectAll()
      .where('type', '=', 'certificate')
      .where('certificate', 'is', null)
      .execute()) as VersionRow[];
    for (const row of rows) {
      if (!this.sealer.canOpen(row.key_id)) continue;
      const sealed = await this.unseal(row);
      const facts = certificateFacts(row.name, sealed.value as CertificateValue);
      await this.db
        .updateTable('credential_versions')
        .set({
          certificate: facts?.certificate ?? '',
          ca_certificate: facts?.caCertificate ?? null,
          is_ca: facts?.isCa ? 1 : 0,
          self_signed: facts?.selfSigned ? 1 : 0,
          generated: sealed.parameters ? 1 : 0,
        })
        .where('id', '=', row.id)
        .execute();
      if (facts?.caName)
        await this.db.updateTable('credentials').set({ ca_name: facts.caName }).where('name', '=', row.name).execute();
    }
    return rows.length;
  }
}

/** The AAD that binds a sealed value to its version id and name. */
export function aadOf(id: string, name: string): string {
  return `${id}:${name}`;
}

export function typeMismatch(name: string, stored: string, asked: string): SlipwayError {
  return new SlipwayError(
    'InvalidInput',
    `The credential type cannot be modified. Please delete the credential if you wish to create it with a different type. (${name} is a ${stored}, not a ${asked})`,
    { field: 'type' },
  );
}

function certificateFacts(
  name: string,
  value: CertificateValue,
):
  | {
      certificate: string;
      caCertificate: string | null;
      caName: string | null;
      isCa: boolean;
      selfSigned: boolean;
      expiry: string | null;
    }
  | undefined {
  if (!value.certificate)
    return {
      certificate: '',
      caCertificate: value.ca,
      caName: value.ca_name ?? null,
      isCa: false,
      selfSigned: false,
      expiry: null,
    };
  const info = describeCertificate(value.certificate);
  const selfSigned = info.subject === info.issuer && (value.ca_name === undefined || value.ca_name === name);
  return {
    certificate: value.certificate,
    caCertificate: value.ca,
    caName: value.ca_name ?? (selfSigned && info.isCa ? name : null),
    isCa: info.isCa,
    selfSigned,
    expiry: info.notAfter.toISOString(),
  };
}
