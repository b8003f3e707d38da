// Bulk leaf regeneration for many clusters: certificates per second through the provider, then the same
// certificate mix issued on the main thread (async native keys and signatures) against worker threads.
// Run: npx tsc -b plugins/credhub && node plugins/credhub/bench/bulk-regenerate.mjs [clusters]
import { Worker } from 'node:worker_threads';
import { createCertificate } from '@slipway/pki';
import { issueKubernetesPki, kubernetesPkiLayout, rotateKubernetesLeaves } from '@slipway/pki/kubernetes';
import { engine, forEachLimit, machine, withStore } from './lib.mjs';

const clusters = Number(process.argv[2] ?? 100);
const inputOf = (i) => ({
  path: `/slipway/clusters/bench-${i}`,
  externalHostname: `c${i}.example.test`,
  masters: [{ name: 'master-0', ip: '10.0.0.10' }],
  workers: [
    { name: 'worker-0', ip: '10.0.1.20' },
    { name: 'worker-1', ip: '10.0.1.21' },
  ],
});
console.log(`bulk leaf regeneration, ${clusters} clusters of 1 master and 2 workers (${machine()})`);

// 1. Through the provider: every leaf of every cluster regenerated (rotateKubernetesLeaves = bulk-regenerate per CA).
const leaves = await withStore(async (provider) => {
  const setup = performance.now();
  await forEachLimit([...Array(clusters).keys()], 4, (i) => issueKubernetesPki(provider, engine, inputOf(i)));
  console.log(`  setup: ${clusters} clusters issued in ${((performance.now() - setup) / 1000).toFixed(1)} s`);
  const start = performance.now();
  let count = 0;
  await forEachLimit([...Array(clusters).keys()], 4, async (i) => {
    const names = await rotateKubernetesLeaves(provider, engine, inputOf(i).path);
    count += names.length;
  });
  const seconds = (performance.now() - start) / 1000;
  console.log(
    `  provider, main thread: ${count} leaves (2 RSA + ${count / clusters - 2} ECDSA per cluster) in ${seconds.toFixed(1)} s = ${(count / seconds).toFixed(0)} certificates/s`,
  );
  // The leaves of the etcd and front-proxy CAs are all ECDSA: the provider's own cost per certificate.
  const ecStart = performance.now();
  let ec = 0;
  await forEachLimit([...Array(clusters).keys()], 4, async (i) => {
    const names = await rotateKubernetesLeaves(provider, engine, inputOf(i).path, {
      cas: ['etcd-ca', 'front-proxy-ca'],
    });
    ec += names.length;
  });
  const ecSeconds = (performance.now() - ecStart) / 1000;
  console.log(
    `  provider, ECDSA leaves only (etcd and front-proxy CAs): ${ec} in ${ecSeconds.toFixed(1)} s = ${(ec / ecSeconds).toFixed(0)} certificates/s`,
  );
  return count;
});

// 2. The certificate work alone (keys + signatures, no store), main thread against worker threads.
const rsaCa = await createCertificate({ subject: { commonName: 'bench-ca' }, isCa: true });
const ecCa = await createCertificate({
  subject: { commonName: 'bench-ec-ca' },
  isCa: true,
  keyAlgorithm: 'ecdsa-p256',
});
const specsOf = (mix) => {
  const specs = [];
  for (let i = 0; i < clusters; i++) {
    for (const e of kubernetesPkiLayout(inputOf(i))[1]) {
      const p = e.parameters;
      const rsa = p.key_algorithm !== 'ecdsa-p256';
      if (mix === 'ecdsa' && rsa) continue;
      specs.push({
        spec: {
          subject: { commonName: p.common_name, organization: p.organization },
          altNames: p.alternative_names,
          keyUsage: p.key_usage,
          extendedKeyUsage: p.extended_key_usage,
          days: 365,
          keyAlgorithm: rsa ? 'rsa' : 'ecdsa-p256',
        },
        issuer: p.ca.endsWith('kubernetes-ca')
          ? { certificatePem: rsaCa.certificatePem, privateKeyPem: rsaCa.privateKeyPem }
          : { certificatePem: ecCa.certificatePem, privateKeyPem: ecCa.privateKeyPem },
      });
    }
  }
  return specs;
};

async function mainThread(specs) {
  const start = performance.now();
  await forEachLimit(specs, 16, ({ spec, issuer }) => createCertificate(spec, issuer));
  return specs.length / ((performance.now() - start) / 1000);
}

async function workerThreads(specs, size) {
  const workers = Array.from({ length: size }, () => new Worker(new URL('./cert-worker.mjs', import.meta.url)));
  await Promise.all(workers.map((w) => new Promise((ok) => w.once('online', ok))));
  const pending = new Map();
  for (const w of workers)
    w.on('message', (m) => {
      pending.get(m.id)();
      pending.delete(m.id);
    });
  const start = performance.now();
  let id = 0;
  await forEachLimit(
    specs,
    16,
    ({ spec, issuer }) =>
      new Promise((ok) => {
        const mine = id++;
        pending.set(mine, ok);
        workers[mine % size].postMessage({ id: mine, spec, issuer });
      }),
  );
  const rate = specs.length / ((performance.now() - start) / 1000);
  await Promise.all(workers.map((w) => w.terminate()));
  return rate;
}

for (const mix of ['layout', 'ecdsa']) {
  const specs = specsOf(mix);
  const label = mix === 'layout' ? `the layout's mix (${specs.length} leaves)` : `ECDSA leaves only (${specs.length})`;
  const rates = { main: [], w2: [], w4: [] };
  for (let round = 0; round < 2; round++) {
    rates.main.push(await mainThread(specs));
    rates.w2.push(await workerThreads(specs, 2));
    rates.w4.push(await workerThreads(specs, 4));
  }
  const best = (r) => Math.max(...r).toFixed(0);
  console.log(
    `  certificates alone, ${label}: main thread ${best(rates.main)}/s, 2 worker threads ${best(rates.w2)}/s, 4 worker threads ${best(rates.w4)}/s`,
  );
}
console.log(`  (${leaves} leaves regenerated through the provider)`);
