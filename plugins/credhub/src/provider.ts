import { randomBytes, randomUUID } from 'node:crypto';
import {
  SlipwayError, CREDENTIAL_TYPES,
  type CertificateParameters, type CertificateValue, type Credential, type CredentialContext, type CredentialProvider,
  type CredentialType, type CredentialValueByType, type GenerateMode, type GenerationParametersByType,
} from '@slipway/contracts';
import { open, seal, type EncryptionKeyProvider } from './encryption.js';
import { expiryOf, generateCertificate, generatePassword, generateRsa, generateSsh, generateUser } from './generate.js';
import type { CredentialDb, VersionRow } from './store.js';

const NAME = /^\/?[A-Za-z0-9_.\-/]+$/;
const MAX_VALUE_BYTES = 64 * 1024;

interface Sealed { value: unknown; parameters: unknown }

/**
 * A CredHub-like credential store: every write is a new version, sealed with AES-256-GCM under its own
 * data key, which the key-encryption key wraps. Names, types and times stay in the clear; values and
 * generation parameters never do.
 */
export class CredhubCredentialProvider implements CredentialProvider {
  /** Serializes generation per name, so two converges of one name cannot both generate. */
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(private readonly db: CredentialDb, private readonly keys: EncryptionKeyProvider) {}

  async get(name: string, _context: CredentialContext, options: { versionId?: string } = {}): Promise<Credential> {
    const key = normalize(name);
    let q = this.db.selectFrom('credential_versions').selectAll();
    q = options.versionId ? q.where('id', '=', options.versionId).where('name', '=', key) : q.where('name', '=', key).orderBy('seq', 'desc').limit(1);
    const row = await q.executeTakeFirst();
    if (!row) throw new SlipwayError('NotFound', `credential ${key}${options.versionId ? ` version ${options.versionId}` : ''} does not exist`, { hint: 'Find names with `slipway credentials find --path /`.' });
    return this.toCredential(row as VersionRow);
  }

  async getVersions(name: string, count: number, _context: CredentialContext): Promise<Credential[]> {
    const key = normalize(name);
    const rows = await this.db.selectFrom('credential_versions').selectAll().where('name', '=', key).orderBy('seq', 'desc').limit(Math.max(1, count)).execute();
    if (!rows.length) throw new SlipwayError('NotFound', `credential ${key} does not exist`);
    return Promise.all(rows.map((r) => this.toCredential(r as VersionRow)));
  }

  async set<T extends CredentialType>(input: { name: string; type: T; value: CredentialValueByType[T]; metadata?: Record<string, unknown> }, context: CredentialContext): Promise<Credential<T>> {
    checkType(input.type);
    checkValue(input.type, input.value);
    return this.write(normalize(input.name), input.type, input.value, null, input.metadata, context) as Promise<Credential<T>>;
  }

  async generate<T extends Exclude<CredentialType, 'value' | 'json'>>(input: { name: string; type: T; parameters?: GenerationParametersByType[T]; mode?: GenerateMode; metadata?: Record<string, unknown> }, context: CredentialContext): Promise<Credential<T>> {
    checkType(input.type);
    if (input.type === ('value' as string) || input.type === ('json' as string)) {
      throw new SlipwayError('InvalidInput', `credentials of type ${input.type} cannot be generated; set them instead`, { field: 'type' });
    }
    const name = normalize(input.name);
    const mode = input.mode ?? 'converge';
    const parameters = (input.parameters ?? {}) as Record<string, unknown>;
    return this.exclusive(name, async () => {
      const current = await this.db.selectFrom('credential_versions').selectAll().where('name', '=', name).orderBy('seq', 'desc').limit(1).executeTakeFirst() as VersionRow | undefined;
      if (current) {
        if (current.type !== input.type) {
          throw new SlipwayError('Conflict', `credential ${name} is of type ${current.type}, not ${input.type}`, { hint: 'Delete it first or use another name.' });
        }
        if (mode === 'no-overwrite') return this.toCredential(current) as Promise<Credential<T>>;
        if (mode === 'converge') {
          const sealed = await this.unseal(current);
          if (sameParameters(sealed.parameters, parameters)) return this.toCredential(current, sealed) as Promise<Credential<T>>;
        }
      }
      const value = await this.produce(input.type, parameters, context);
      return this.write(name, input.type, value, parameters, input.metadata, context) as Promise<Credential<T>>;
    });
  }

  async find(input: { path: string }, _context: CredentialContext): Promise<Array<{ name: string; version_created_at: string }>> {
    const prefix = normalize(input.path).replace(/\/?$/, '/');
    const rows = await this.db.selectFrom('credential_versions')
      .select(['name', (eb) => eb.fn.max('created_at').as('version_created_at')])
      .where('name', 'like', `${prefix.replace(/[%_\\]/g, '\\$&')}%`)
      .groupBy('name').orderBy('name').execute();
    // LIKE without ESCAPE treats backslash literally on SQLite; filter exactly in JS as well.
    return rows.filter((r) => r.name.startsWith(prefix) || prefix === '/').map((r) => ({ name: r.name, version_created_at: String(r.version_created_at) }));
  }

  async delete(name: string, _context: CredentialContext): Promise<void> {
    await this.db.deleteFrom('credential_versions').where('name', '=', normalize(name)).execute();
  }

  async destroy(): Promise<void> {
    await this.db.destroy();
  }

  private async produce(type: CredentialType, parameters: Record<string, unknown>, context: CredentialContext): Promise<unknown> {
    switch (type) {
      case 'password': return generatePassword(parameters);
      case 'user': return generateUser(parameters);
      case 'rsa': return generateRsa(parameters as { key_length?: 2048 });
      case 'ssh': return generateSsh(parameters as { key_length?: 2048 });
      case 'certificate': {
        const p = parameters as CertificateParameters;
        let signer: { name: string; value: CertificateValue } | undefined;
        if (p.ca) {
          const ca = await this.get(p.ca, context).catch((e) => {
            throw SlipwayError.is(e, 'NotFound') ? new SlipwayError('NotFound', `the signing CA ${normalize(p.ca!)} does not exist`, { field: 'parameters.ca', hint: 'Generate the CA first (is_ca: true).' }) : e;
          });
          if (ca.type !== 'certificate') throw new SlipwayError('InvalidInput', `${ca.name} is a ${ca.type}, not a certificate`, { field: 'parameters.ca' });
          signer = { name: ca.name, value: ca.value as CertificateValue };
        }
        return generateCertificate(p, signer);
      }
      case 'value': case 'json':
        throw new SlipwayError('InvalidInput', `credentials of type ${type} cannot be generated`, { field: 'type' });
    }
  }

  private async write(name: string, type: CredentialType, value: unknown, parameters: unknown, metadata: Record<string, unknown> | undefined, context: CredentialContext): Promise<Credential> {
    const id = randomUUID();
    const dataKey = randomBytes(32);
    const plaintext = Buffer.from(JSON.stringify({ value, parameters } satisfies Sealed));
    if (plaintext.length > MAX_VALUE_BYTES + 1024) throw new SlipwayError('InvalidInput', `credential ${name} is larger than 64 KB`, { field: 'value' });
    const row = {
      id, name, type,
      sealed: seal(dataKey, plaintext, `${id}:${name}`),
      wrapped_key: await this.keys.wrap(dataKey),
      key_id: this.keys.activeKeyId,
      metadata: metadata ? JSON.stringify(metadata) : null,
      transitional: 0,
      expiry_date: expiryOf(type, value),
      created_by: context.actor,
      created_at: new Date().toISOString(),
    };
    await this.db.insertInto('credential_versions').values(row).execute();
    return this.toCredential({ ...row, seq: 0 }, { value, parameters });
  }

  private async unseal(row: VersionRow): Promise<Sealed> {
    const dataKey = await this.keys.unwrap(row.wrapped_key, row.key_id);
    try {
      return JSON.parse(open(dataKey, row.sealed, `${row.id}:${row.name}`).toString('utf8')) as Sealed;
    } catch (e) {
      throw new SlipwayError('Internal', `credential ${row.name} version ${row.id} fails its integrity check: it was altered in the store`, { cause: e });
    }
  }

  private async toCredential(row: VersionRow, sealed?: Sealed): Promise<Credential> {
    const { value } = sealed ?? (await this.unseal(row));
    return {
      id: row.id, name: row.name, type: row.type as CredentialType, value: value as never,
      version_created_at: row.created_at,
      metadata: row.metadata ? JSON.parse(row.metadata) : null,
      ...(row.type === 'certificate' ? { transitional: row.transitional === 1, expiry_date: row.expiry_date ?? undefined } : {}),
    };
  }

  private exclusive<T>(name: string, work: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(name) ?? Promise.resolve();
    const next = previous.catch(() => {}).then(work);
    this.locks.set(name, next);
    return next.finally(() => { if (this.locks.get(name) === next) this.locks.delete(name); });
  }
}

/** CredHub names start with a slash; `a/b` and `/a/b` are the same credential. */
function normalize(name: string): string {
  if (!name || !NAME.test(name) || name.includes('//')) {
    throw new SlipwayError('InvalidInput', `credential name "${name}" is not valid: use letters, digits, _ . - and / separators`, { field: 'name' });
  }
  return name.startsWith('/') ? name : `/${name}`;
}

function checkType(type: string): void {
  if (!CREDENTIAL_TYPES.includes(type as CredentialType)) {
    throw new SlipwayError('InvalidInput', `type must be one of ${CREDENTIAL_TYPES.join(', ')}; got "${type}"`, { field: 'type' });
  }
}

function checkValue(type: CredentialType, value: unknown): void {
  const bad = (what: string) => new SlipwayError('InvalidInput', `a ${type} value ${what}`, { field: 'value' });
  switch (type) {
    case 'value': case 'password': if (typeof value !== 'string') throw bad('must be a string'); break;
    case 'json': if (value === null || typeof value !== 'object') throw bad('must be a JSON object or array'); break;
    case 'user': if (!isObj(value) || typeof value.password !== 'string') throw bad('needs username and password'); break;
    case 'certificate': if (!isObj(value) || (typeof value.certificate !== 'string' && typeof value.ca !== 'string')) throw bad('needs certificate (and private_key, ca)'); break;
    case 'rsa': case 'ssh': if (!isObj(value) || (typeof value.public_key !== 'string' && typeof value.private_key !== 'string')) throw bad('needs public_key and/or private_key'); break;
  }
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function sameParameters(a: unknown, b: unknown): boolean {
  return stable(a ?? {}) === stable(b ?? {});
}

function stable(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stable).join(',')}]`;
  if (isObj(v)) return `{${Object.keys(v).filter((k) => v[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${stable(v[k])}`).join(',')}}`;
  return JSON.stringify(v);
}
