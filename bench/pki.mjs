// PKI speed (issue 11, item 10): one cluster's full PKI (3 masters, 3 workers: CAs, service-account key, API
// server, component and per-node etcd and kubelet certificates) issued through the credential store, from an
// empty store to every credential written. Prints the median of several runs of:
//  - the layout new clusters get: ECDSA P-256 everywhere, the service-account key RSA-2048 from the credential
//    store's in-memory pool of ready keys (warm, as on a running control plane);
//  - the same with the pool empty (the first cluster after a start, or a burst that drained it);
//  - the layout clusters created before it keep (RSA Kubernetes CA, API server and admin certificates): the
//    figure this replaced.
// Run with `npm run bench -- pki.mjs` (compiled JS; `npm run build` first). Prints figures, asserts nothing.
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCredhubProvider } from '@slipway/credentials-credhub';
import { issueKubernetesPki, kubernetesPkiLayout } from '@slipway/pki/kubernetes';
import { median } from './lib.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 9);
const engine = { actor: 'slipway:engine' };
const input = {
  path: '/slipway/clusters/bench',
  externalHostname: 'bench.example.test',
  masters: [0, 1, 2].map((i) => ({ name: `master-${i}`, ip: `10.0.0.${10 + i}` })),
  workers: [0, 1, 2].map((i) => ({ name: `worker-${i}`, ip: `10.0.1.${20 + i}` })),
};

async function once(clientKeys, rsaPoolSize) {
  const dataDir = await mkdtemp(join(tmpdir(), 'pki-bench-'));
  const provider = await openCredhubProvider({ dataDir, rsaPoolSize });
  try {
    await provider.warmKeyPool();
    const cpu = process.cpuUsage();
    const start = performance.now();
    await issueKubernetesPki(provider, engine, { ...input, clientKeys });
    const wall = performance.now() - start;
    const used = process.cpuUsage(cpu);
    // CPU time of every thread of the process (libuv's pool included): what the work costs whatever the load.
    return { wall, cpu: (used.user + used.system) / 1000 };
  } finally {
    await provider.destroy();
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function series(label, clientKeys, options = {}) {
  const runs = [];
  for (let i = 0; i < RUNS; i++) runs.push(await once(clientKeys, options.rsaPoolSize));
  const wall = runs.map((r) => r.wall).sort((a, b) => a - b);
  const entries = kubernetesPkiLayout({ ...input, clientKeys }).flat();
  const rsa = entries.filter((e) => e.type === 'rsa' || e.parameters.key_algorithm !== 'ecdsa-p256').length;
  console.log(
    `  ${label.padEnd(56)} median ${median(wall).toFixed(0).padStart(5)} ms wall (min ${wall[0].toFixed(0)}, max ${wall.at(-1).toFixed(0)}),` +
      ` ${median(runs.map((r) => r.cpu))
        .toFixed(0)
        .padStart(4)} ms CPU; ${rsa} RSA keys of ${entries.length} credentials`,
  );
}

console.log(
  `one cluster's full PKI, ${RUNS} runs each (node ${process.version}, ${cpus().length} cores, load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')})`,
);
await series('new layout, RSA key pool warm', 'ecdsa-p256');
await series('new layout, RSA key pool cold', 'ecdsa-p256', { rsaPoolSize: 0 });
await series('previous layout (RSA Kubernetes CA, API server, admin)', 'rsa', { rsaPoolSize: 0 });
console.log(
  `  (load average after: ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')})`,
);
