import { generateKeyPair as generateKeyPairCb } from 'node:crypto';
import { promisify } from 'node:util';

const generate = promisify(generateKeyPairCb);

export type KeyAlgorithm = 'rsa' | 'ecdsa-p256';

/**
 * Native, asynchronous key generation: it runs on libuv's thread pool, so several keys generate in
 * parallel without blocking the event loop (node-forge's pure-JS keygen is ~25x slower).
 */
export async function generateKeyPair(
  algorithm: KeyAlgorithm = 'rsa',
  rsaBits: 2048 | 3072 | 4096 = 2048,
): Promise<{ privateKeyPem: string; publicKeyPem: string }> {
  const encoding = {
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  } as const;
  const pair = (algorithm === 'rsa'
    ? await generate('rsa', { modulusLength: rsaBits, ...encoding })
    : await generate('ec', { namedCurve: 'P-256', ...encoding })) as unknown as {
    privateKey: string;
    publicKey: string;
  };
  return { privateKeyPem: pair.privateKey, publicKeyPem: pair.publicKey };
}
