// `npm run bench`: runs every benchmark script in turn (compiled JS; `npm run build` first). Prints figures.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// Every figure the issues ask for; pass names to run some (`npm run bench -- spine.mjs`).
const ALL = [
  'spine.mjs',
  'multicloud.mjs',
  'drivers.mjs',
  'health.mjs',
  'fleet.mjs',
  'backup.mjs',
  'registry.mjs',
  'agent-bootstrap.mjs',
  'network.mjs',
  'network-nsxt.mjs',
  'pki.mjs',
  'login.mjs',
  'store.mjs',
  'dashboard.mjs',
  'install-size.mjs',
  'replicas.mjs',
  '../plugins/credhub/bench/cluster-pki.mjs',
  '../plugins/credhub/bench/bulk-regenerate.mjs',
  '../plugins/credhub/bench/http-read.mjs',
  '../iaas-drivers/local/bench/local-cluster.mjs',
  'kubernetes-net.mjs',
  'kubernetes-life.mjs',
];
const scripts = process.argv.slice(2).length ? process.argv.slice(2) : ALL;
let failed = 0;
for (const script of scripts) {
  const file = fileURLToPath(new URL(script, import.meta.url));
  if (!existsSync(file)) {
    console.error(`bench: no ${script}`);
    failed++;
    continue;
  }
  console.log(`\n## ${script}`);
  const res = spawnSync(process.execPath, [file], { stdio: 'inherit' });
  if (res.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
