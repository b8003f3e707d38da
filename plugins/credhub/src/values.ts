import { X509Certificate } from 'node:crypto';
import { certificateMatchesKey } from '@slipway/pki';
import { SlipwayError, type CertificateValue, type CredentialType, type UserValue } from '@slipway/contracts';
import { sha512Crypt } from './generate/sha512-crypt.js';
import { opensshRsaBlob, sshFingerprint } from './generate/keys.js';

/** CredHub's limit on one value. */
export const MAX_VALUE_BYTES = 64 * 1024;

function bad(message: string, field = 'value'): SlipwayError {
  return new SlipwayError('InvalidInput', message, { field });
}

/**
 * Checks a value given to `set` and completes what CredHub derives from it: a user's password hash, an
 * SSH key's fingerprint. A certificate's signer (`ca_name`) is checked by the provider, which can read it.
 */
export function checkSetValue(type: CredentialType, value: unknown): unknown {
  switch (type) {
    case 'value':
    case 'password':
      if (typeof value !== 'string' || !value)
        throw bad('A non-empty value must be specified for the credential. Please validate and retry your request.');
      return value;
    case 'json':
      if (value === null || typeof value !== 'object') throw bad('a json value must be a JSON object or array');
      return value;
    case 'user': {
      if (!isObject(value) || typeof value.password !== 'string' || !value.password)
        throw bad(
          'A password value must be specified for the credential. Please validate and retry your request.',
          'value.password',
        );
      if (value.username !== undefined && value.username !== null && typeof value.username !== 'string')
        throw bad('username must be a string', 'value.username');
      const user: UserValue = {
        username: (value.username as string | undefined) ?? '',
        password: value.password,
        password_hash: sha512Crypt(value.password),
      };
      return user;
    }
    case 'rsa':
    case 'ssh': {
      if (!isObject(value) || (!str(value.public_key) && !str(value.private_key))) {
        throw bad('At least one key value must be set. Please validate your input and retry your request.');
      }
      const out: Record<string, string> = {
        public_key: (value.public_key as string) ?? '',
        private_key: (value.private_key as string) ?? '',
      };
      if (type === 'ssh' && str(value.public_key)) {
        try {
          const blob = Buffer.from((value.public_key as string).trim().split(/\s+/)[1] ?? '', 'base64');
          out.public_key_fingerprint = sshFingerprint(blob.length ? blob : opensshRsaBlob(value.public_key as string));
        } catch {
          throw bad('the public_key is not an OpenSSH public key', 'value.public_key');
        }
      }
      return out;
    }
    case 'certificate': {
      if (!isObject(value))
        throw bad('At least one certificate attribute must be set. Please validate your input and retry your request.');
      const v = value as Partial<CertificateValue> & Record<string, unknown>;
      if (!str(v.certificate) && !str(v.ca))
        throw bad('At least one certificate attribute must be set. Please validate your input and retry your request.');
      if (str(v.ca) && str(v.ca_name))
        throw bad(
          "Only one of the values 'ca_name' and 'ca' may be provided. Please update and retry your request.",
          'value.ca_name',
        );
      for (const field of ['certificate', 'ca'] as const) {
        if (!str(v[field])) continue;
        try {
          new X509Certificate(v[field] as string);
        } catch {
          throw bad('The provided certificate value is not a valid X509 certificate.', `value.${field}`);
        }
      }
      if (str(v.certificate) && str(v.private_key)) {
        let matches: boolean;
        try {
          matches = certificateMatchesKey(v.certificate as string, v.private_key as string);
        } catch {
          throw bad('Private key is malformed.', 'value.private_key');
        }
        if (!matches) throw bad('The provided certificate does not match the private key.', 'value.private_key');
      }
      return {
        ca: str(v.ca) ? v.ca : null,
        certificate: (v.certificate as string) ?? '',
        private_key: (v.private_key as string) ?? '',
        ...(str(v.ca_name) ? { ca_name: v.ca_name } : {}),
      } satisfies CertificateValue;
    }
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0;
}
