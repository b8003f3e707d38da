import { isIP } from 'node:net';
import {
  SlipwayError,
  type CertificateParameters,
  type CredentialType,
  type GenerationParametersByType,
  type PasswordParameters,
} from '@slipway/contracts';

export type GeneratedType = Exclude<CredentialType, 'value' | 'json'>;

export const GENERATED_TYPES: readonly GeneratedType[] = ['password', 'user', 'certificate', 'rsa', 'ssh'];

const PASSWORD_KEYS = ['length', 'exclude_upper', 'exclude_lower', 'exclude_number', 'include_special'];
const KEYS_BY_TYPE: Record<GeneratedType, readonly string[]> = {
  password: PASSWORD_KEYS,
  user: [...PASSWORD_KEYS, 'username'],
  rsa: ['key_length'],
  ssh: ['key_length', 'ssh_comment'],
  certificate: [
    'common_name',
    'alternative_names',
    'organization',
    'organization_unit',
    'locality',
    'state',
    'country',
    'key_usage',
    'extended_key_usage',
    'duration',
    'key_length',
    'key_algorithm',
    'ca',
    'is_ca',
    'self_sign',
  ],
};

export const KEY_USAGES = [
  'digital_signature',
  'non_repudiation',
  'key_encipherment',
  'data_encipherment',
  'key_agreement',
  'key_cert_sign',
  'crl_sign',
  'encipher_only',
  'decipher_only',
] as const;
export const EXTENDED_KEY_USAGES = [
  'server_auth',
  'client_auth',
  'code_signing',
  'email_protection',
  'timestamping',
] as const;
const KEY_LENGTHS = [2048, 3072, 4096];
const HOSTNAME =
  /^(\*\.)?([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

function invalid(message: string, field: string): SlipwayError {
  return new SlipwayError('InvalidInput', message, { field: `parameters.${field}` });
}

/**
 * Checks generation parameters as CredHub does (every problem named by its field) and returns them
 * without undefined members, so converge compares what was asked, not how it was spelled.
 */
export function checkParameters<T extends GeneratedType>(type: T, raw: unknown): GenerationParametersByType[T] {
  if (raw === undefined || raw === null) raw = {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw invalid('parameters must be an object', '');
  const p = Object.fromEntries(Object.entries(raw as Record<string, unknown>).filter(([, v]) => v !== undefined));
  for (const key of Object.keys(p)) {
    if (!KEYS_BY_TYPE[type].includes(key)) {
      throw invalid(
        `The request includes an unrecognized parameter '${key}'. Please update or remove this parameter and retry your request.`,
        key,
      );
    }
  }
  switch (type) {
    case 'password':
    case 'user':
      checkPassword(p as PasswordParameters & { username?: unknown });
      break;
    case 'rsa':
    case 'ssh':
      checkKeyLength(p.key_length);
      if (p.ssh_comment !== undefined && typeof p.ssh_comment !== 'string')
        throw invalid('ssh_comment must be a string', 'ssh_comment');
      break;
    case 'certificate':
      checkCertificate(p as CertificateParameters);
      break;
  }
  return p as GenerationParametersByType[T];
}

function checkPassword(p: PasswordParameters & { username?: unknown }): void {
  if (p.length !== undefined && (!Number.isInteger(p.length) || p.length < 4 || p.length > 200))
    throw invalid(`length must be an integer from 4 to 200; got ${p.length}`, 'length');
  for (const flag of ['exclude_upper', 'exclude_lower', 'exclude_number', 'include_special'] as const) {
    if (p[flag] !== undefined && typeof p[flag] !== 'boolean') throw invalid(`${flag} must be true or false`, flag);
  }
  if (p.exclude_lower && p.exclude_upper && p.exclude_number && !p.include_special) {
    throw invalid(
      'The combination of parameters in the request is not allowed. Please validate your input and retry your request.',
      'exclude_number',
    );
  }
  if (p.username !== undefined && (typeof p.username !== 'string' || !p.username))
    throw invalid('username must be a non-empty string', 'username');
}

function checkKeyLength(length: unknown): void {
  if (length !== undefined && !KEY_LENGTHS.includes(length as number)) {
    throw invalid(
      "The provided key length is not supported. Valid values include '2048', '3072' and '4096'.",
      'key_length',
    );
  }
}

function checkCertificate(p: CertificateParameters): void {
  checkKeyLength(p.key_length);
  if (p.key_algorithm !== undefined && p.key_algorithm !== 'rsa' && p.key_algorithm !== 'ecdsa-p256')
    throw invalid("key_algorithm must be 'rsa' or 'ecdsa-p256'", 'key_algorithm');
  const limits: Array<[keyof CertificateParameters, number]> = [
    ['common_name', 64],
    ['organization', 64],
    ['organization_unit', 64],
    ['locality', 128],
    ['state', 128],
    ['country', 2],
  ];
  for (const [field, max] of limits) {
    const v = p[field];
    if (v === undefined) continue;
    if (typeof v !== 'string' || !v) throw invalid(`${field} must be a non-empty string`, field);
    if (v.length > max)
      throw invalid(
        `The request could not be completed because the ${field} is too long. The max length for ${field} is ${max} characters.`,
        field,
      );
  }
  for (const flag of ['is_ca', 'self_sign'] as const)
    if (p[flag] !== undefined && typeof p[flag] !== 'boolean') throw invalid(`${flag} must be true or false`, flag);
  if (p.ca !== undefined && (typeof p.ca !== 'string' || !p.ca))
    throw invalid('ca must be the name of a CA credential', 'ca');
  if (p.ca && p.self_sign)
    throw invalid(
      "The parameters 'ca' and 'self-sign' cannot be used in combination. Please update and retry your request.",
      'self_sign',
    );
  if (!p.ca && !p.self_sign && !p.is_ca)
    throw invalid(
      'You must specify a signing CA or indicate self-signing when generating a certificate. Please update and retry your request.',
      'ca',
    );
  if (p.duration !== undefined && (!Number.isInteger(p.duration) || p.duration < 1 || p.duration > 3650)) {
    throw invalid(
      'Invalid duration specified. The supported duration values are whole numbers between 1-3650.',
      'duration',
    );
  }
  if (p.alternative_names !== undefined) {
    if (!Array.isArray(p.alternative_names))
      throw invalid('alternative_names must be a list of host names and IP addresses', 'alternative_names');
    for (const n of p.alternative_names) {
      if (typeof n !== 'string' || (!isIP(n) && !HOSTNAME.test(n))) {
        throw invalid(
          `A provided alternative name (${JSON.stringify(n)}) is not a valid hostname or IP address. Please update this value and retry your request.`,
          'alternative_names',
        );
      }
    }
  }
  const subject = [p.common_name, p.organization, p.organization_unit, p.locality, p.state, p.country].some(Boolean);
  if (!subject && !p.alternative_names?.length) {
    throw invalid(
      'At least one subject value, such as common name or organization, must be defined to generate the certificate. Please update and retry your request.',
      'common_name',
    );
  }
  checkList(
    p.key_usage,
    KEY_USAGES,
    'key_usage',
    (v) =>
      `The provided key usage '${v}' is not supported. Valid values include ${KEY_USAGES.map((k) => `'${k}'`).join(', ')}.`,
  );
  checkList(
    p.extended_key_usage,
    EXTENDED_KEY_USAGES,
    'extended_key_usage',
    (v) =>
      `The provided extended key usage '${v}' is not supported. Valid values include ${EXTENDED_KEY_USAGES.map((k) => `'${k}'`).join(', ')}.`,
  );
}

function checkList(values: unknown, allowed: readonly string[], field: string, message: (v: unknown) => string): void {
  if (values === undefined) return;
  if (!Array.isArray(values)) throw invalid(`${field} must be a list`, field);
  for (const v of values) if (!allowed.includes(v as string)) throw invalid(message(v), field);
}
