// One cluster's full PKI through the provider: wall time from an empty store to every credential issued.
// Run: npx tsc -b plugins/credhub && node plugins/credhub/bench/cluster-pki.mjs [runs]
import { issueKubernetesPki, kubernetesPkiLayout } from '@slipway/pki/kubernetes';
import { engine, machine, summary, withStore } from './lib.mjs';

const runs = Number(process.argv[2] ?? 7);
const input = {
  path: '/slipway/clusters/bench',
  externalHostname: 'bench.example.test',
  masters: [0, 1, 2].map((i) => ({ name: `master-${i}`, ip: `10.0.0.${10 + i}` })),
  workers: [0, 1, 2].map((i) => ({ name: `worker-${i}`, ip: `10.0.1.${20 + i}` })),
};
const entries = kubernetesPkiLayout(input).flat();
const rsaKeys = entries.filter((e) => e.type === 'rsa' || e.parameters.key_algorithm !== 'ecdsa-p256').length;

/** The same layout with every key RSA-2048: what the layout would cost without ECDSA leaves. */
async function issueAllRsa(provider) {
  const [cas, leaves] = kubernetesPkiLayout(input);
  const strip = (e) =>
    e.type === 'rsa' ? e : { ...e, parameters: { ...e.parameters, key_algorithm: undefined, key_usage: undefined } };
  const gen = (e) =>
    provider.generate(
      { name: `${input.path}/${e.name}`, type: e.type, parameters: strip(e).parameters, mode: 'converge' },
      engine,
    );
  await Promise.all(cas.map(gen));
  await Promise.all(leaves.map(gen));
}

async function time(issue) {
  return withStore(async (provider) => {
    const start = performance.now();
    await issue(provider);
    return performance.now() - start;
  });
}

console.log(
  `cluster PKI: 3 masters, 3 workers: ${entries.length} credentials, ${rsaKeys} RSA-2048 key (the service-account key, from the key pool), the rest ECDSA P-256 (${machine()})`,
);
await time((p) => issueKubernetesPki(p, engine, input));
const mixed = [];
for (let i = 0; i < runs; i++) mixed.push(await time((p) => issueKubernetesPki(p, engine, input)));
const allRsa = [];
for (let i = 0; i < Math.min(runs, 3); i++) allRsa.push(await time(issueAllRsa));
const fmt = (s) => `median ${s.median.toFixed(0)} ms (min ${s.min.toFixed(0)}, max ${s.max.toFixed(0)})`;
console.log(`  as issued (ECDSA P-256, the service-account key RSA):    ${fmt(summary(mixed))} over ${runs} runs`);
console.log(
  `  every key RSA-2048, for comparison:                    ${fmt(summary(allRsa))} over ${allRsa.length} runs`,
);
