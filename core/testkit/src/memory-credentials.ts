import { randomBytes, randomUUID } from 'node:crypto';
import {
  SlipwayError,
  type Credential,
  type CredentialContext,
  type CredentialProvider,
  type CredentialType,
  type CredentialValueByType,
  type GenerateMode,
  type GenerationParametersByType,
  type PasswordParameters,
} from '@slipway/contracts';

/**
 * A CredentialProvider held in memory, for tests: get, getVersions, set, find and delete behave as the
 * contract says. `generate` supports only `password` and `user` (other types throw `Unsupported`): drivers
 * under test read credentials, they do not generate certificates.
 */
export class MemoryCredentialProvider implements CredentialProvider {
  private readonly versions = new Map<string, Credential[]>();

  constructor(seed: Array<{ name: string; type: CredentialType; value: unknown }> = []) {
    for (const entry of seed) this.store(entry.name, entry.type, entry.value);
  }

  async get(name: string, context: CredentialContext, options?: { versionId?: string }): Promise<Credential> {
    checkSignal(context);
    const versions = this.versions.get(normalize(name));
    const found = options?.versionId
      ? versions?.find((v) => v.id === options.versionId)
      : versions?.[versions.length - 1];
    if (!found) {
      throw new SlipwayError(
        'NotFound',
        `credential ${name}${options?.versionId ? ` version ${options.versionId}` : ''} does not exist`,
        { hint: 'Seed it through StartedFake.credentials or createTestHost({ credentials }).' },
      );
    }
    return structuredClone(found);
  }

  async getVersions(name: string, count: number, context: CredentialContext): Promise<Credential[]> {
    checkSignal(context);
    const versions = this.versions.get(normalize(name));
    if (!versions) throw new SlipwayError('NotFound', `credential ${name} does not exist`);
    return structuredClone(versions.slice(-count).reverse());
  }

  async set<T extends CredentialType>(
    input: { name: string; type: T; value: CredentialValueByType[T]; metadata?: Record<string, unknown> },
    context: CredentialContext,
  ): Promise<Credential<T>> {
    checkSignal(context);
    return structuredClone(this.store(input.name, input.type, input.value, input.metadata)) as Credential<T>;
  }

  async generate<T extends Exclude<CredentialType, 'value' | 'json'>>(
    input: {
      name: string;
      type: T;
      parameters?: GenerationParametersByType[T];
      mode?: GenerateMode;
      metadata?: Record<string, unknown>;
    },
    context: CredentialContext,
  ): Promise<Credential<T>> {
    checkSignal(context);
    const mode = input.mode ?? 'converge';
    const current = this.versions.get(normalize(input.name))?.at(-1);
    if (current && current.type !== input.type) {
      throw new SlipwayError('Conflict', `credential ${input.name} is a ${current.type}, not a ${input.type}`);
    }
    const sameParameters =
      JSON.stringify(current?.metadata?.generation_parameters ?? {}) === JSON.stringify(input.parameters ?? {});
    if (current && (mode === 'no-overwrite' || (mode === 'converge' && sameParameters)))
      return structuredClone(current) as Credential<T>;
    const value = generateValue(input.type, input.parameters ?? {}, input.name);
    const metadata = { ...input.metadata, generation_parameters: input.parameters ?? {} };
    return structuredClone(this.store(input.name, input.type, value, metadata)) as Credential<T>;
  }

  async find(
    input: { path: string },
    context: CredentialContext,
  ): Promise<Array<{ name: string; version_created_at: string }>> {
    checkSignal(context);
    const prefix = normalize(input.path).replace(/\/?$/, '/');
    return [...this.versions.entries()]
      .filter(([name]) => name === normalize(input.path) || name.startsWith(prefix))
      .map(([name, versions]) => ({ name, version_created_at: versions[versions.length - 1]!.version_created_at }));
  }

  async delete(name: string, context: CredentialContext): Promise<void> {
    checkSignal(context);
    this.versions.delete(normalize(name));
  }

  async destroy(): Promise<void> {
    this.versions.clear();
  }

  private store(name: string, type: CredentialType, value: unknown, metadata?: Record<string, unknown>): Credential {
    const key = normalize(name);
    const credential: Credential = {
      id: randomUUID(),
      name: key,
      type,
      value: value as Credential['value'],
      version_created_at: new Date().toISOString(),
      metadata: metadata ?? null,
    };
    const versions = this.versions.get(key) ?? [];
    versions.push(credential);
    this.versions.set(key, versions);
    return credential;
  }
}

function normalize(name: string): string {
  return name.startsWith('/') ? name : `/${name}`;
}

function checkSignal(context: CredentialContext): void {
  if (context.signal?.aborted)
    throw new SlipwayError('Cancelled', 'the credential call was aborted', { cause: context.signal.reason });
}

function generateValue(type: CredentialType, parameters: unknown, name: string): unknown {
  switch (type) {
    case 'password':
      return password(parameters as PasswordParameters);
    case 'user': {
      const p = parameters as PasswordParameters & { username?: string };
      return { username: p.username ?? randomString(20, 'abcdefghijklmnopqrstuvwxyz'), password: password(p) };
    }
    default:
      throw new SlipwayError(
        'Unsupported',
        `the test credential provider cannot generate ${type} credentials (${name})`,
        {
          hint: 'Seed the value with set() or createTestHost({ credentials }), or test against @slipway/credentials-credhub.',
        },
      );
  }
}

function password(parameters: PasswordParameters): string {
  let alphabet = '';
  if (!parameters.exclude_upper) alphabet += 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
  if (!parameters.exclude_lower) alphabet += 'abcdefghijklmnopqrstuvwxyz';
  if (!parameters.exclude_number) alphabet += '0123456789';
  if (parameters.include_special) alphabet += '!#$%&()*+,-./:;<=>?@[]^_{|}~';
  if (alphabet === '')
    throw new SlipwayError('InvalidInput', 'a password needs at least one character class', { field: 'parameters' });
  return randomString(parameters.length ?? 30, alphabet);
}

function randomString(length: number, alphabet: string): string {
  const bytes = randomBytes(length);
  let out = '';
  // Modulo bias is irrelevant for test passwords.
  for (const byte of bytes) out += alphabet[byte % alphabet.length];
  return out;
}
