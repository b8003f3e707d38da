// A worker thread that issues certificates (key generation and signing) for bulk-regenerate.mjs.
import { parentPort } from 'node:worker_threads';
import { createCertificate } from '@slipway/pki';

parentPort.on('message', async ({ id, spec, issuer }) => {
  const cert = await createCertificate(spec, issuer);
  parentPort.postMessage({ id, ...cert });
});
