import { randomInt } from 'node:crypto';
import type { PasswordParameters, UserValue } from '@slipway/contracts';
import { sha512Crypt } from './sha512-crypt.js';

const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const DIGITS = '0123456789';
const SPECIAL = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';

/** CredHub's password rules: 30 characters by default, at least one of each included class. */
export function generatePassword(p: PasswordParameters = {}): string {
  const length = p.length ?? 30;
  const classes = [
    p.exclude_lower ? '' : LOWER,
    p.exclude_upper ? '' : UPPER,
    p.exclude_number ? '' : DIGITS,
    p.include_special ? SPECIAL : '',
  ].filter(Boolean);
  const all = classes.join('');
  const chars = classes.map((c) => c[randomInt(c.length)]);
  while (chars.length < length) chars.push(all[randomInt(all.length)]);
  for (let i = chars.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [chars[i], chars[j]] = [chars[j], chars[i]];
  }
  return chars.join('');
}

/** A user: the given or a random 20-letter username, a generated password and its SHA-512 crypt hash. */
export function generateUser(p: PasswordParameters & { username?: string } = {}): UserValue {
  const password = generatePassword(p);
  return {
    username: p.username ?? generatePassword({ length: 20, exclude_number: true, exclude_upper: true }),
    password,
    password_hash: sha512Crypt(password),
  };
}
