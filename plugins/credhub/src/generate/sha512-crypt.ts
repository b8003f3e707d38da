import { createHash, randomInt } from 'node:crypto';

const ALPHABET = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const ROUNDS = 5000;

// Byte order of the final encoding, three bytes per four characters (Drepper's SHA-crypt specification).
const ORDER = [
  [0, 21, 42],
  [22, 43, 1],
  [44, 2, 23],
  [3, 24, 45],
  [25, 46, 4],
  [47, 5, 26],
  [6, 27, 48],
  [28, 49, 7],
  [50, 8, 29],
  [9, 30, 51],
  [31, 52, 10],
  [53, 11, 32],
  [12, 33, 54],
  [34, 55, 13],
  [56, 14, 35],
  [15, 36, 57],
  [37, 58, 16],
  [59, 17, 38],
  [18, 39, 60],
  [40, 61, 19],
  [62, 20, 41],
];

/** A random salt of 16 characters from the crypt alphabet. */
export function cryptSalt(): string {
  let salt = '';
  for (let i = 0; i < 16; i++) salt += ALPHABET[randomInt(ALPHABET.length)];
  return salt;
}

/**
 * `$6$salt$hash`: the SHA-512 crypt that CredHub stores as a user credential's `password_hash` and that
 * /etc/shadow, `openssl passwd -6` and `mkpasswd -m sha-512` produce (5000 rounds).
 */
export function sha512Crypt(password: string, salt: string = cryptSalt()): string {
  const p = Buffer.from(password, 'utf8');
  const s = Buffer.from(salt.slice(0, 16), 'utf8');
  const sha = () => createHash('sha512');

  const b = sha().update(p).update(s).update(p).digest();
  const a = sha().update(p).update(s);
  a.update(repeatTo(b, p.length));
  for (let n = p.length; n > 0; n >>= 1) a.update(n & 1 ? b : p);
  const digestA = a.digest();

  const dp = sha();
  for (let i = 0; i < p.length; i++) dp.update(p);
  const pSeq = repeatTo(dp.digest(), p.length);
  const ds = sha();
  for (let i = 0; i < 16 + digestA[0]; i++) ds.update(s);
  const sSeq = repeatTo(ds.digest(), s.length);

  let c = digestA;
  for (let i = 0; i < ROUNDS; i++) {
    const h = sha();
    h.update(i & 1 ? pSeq : c);
    if (i % 3) h.update(sSeq);
    if (i % 7) h.update(pSeq);
    h.update(i & 1 ? c : pSeq);
    c = h.digest();
  }

  let out = '';
  const encode = (b2: number, b1: number, b0: number, chars: number) => {
    let w = (b2 << 16) | (b1 << 8) | b0;
    for (let i = 0; i < chars; i++) {
      out += ALPHABET[w & 0x3f];
      w >>= 6;
    }
  };
  for (const [x, y, z] of ORDER) encode(c[x], c[y], c[z], 4);
  encode(0, 0, c[63], 2);
  return `$6$${s.toString('utf8')}$${out}`;
}

/** `digest` repeated (and cut) to `length` bytes. */
function repeatTo(digest: Buffer, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i += digest.length) digest.copy(out, i, 0, Math.min(digest.length, length - i));
  return out;
}
