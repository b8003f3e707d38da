// IaaS driver figures: conformance wall time per driver (vitest against its fake), then each driver's own
// per-call overhead script (median and p99 against its zero-latency fake). Prints figures only.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const vitest = `${root}node_modules/.bin/vitest`;
const drivers = ['sandbox', 'aws', 'gcp', 'azure', 'openstack', 'vsphere', 'local'];

console.log('conformance suite wall time (one vitest process per driver, including its start):');
for (const d of drivers) {
  const file = `iaas-drivers/${d}/test/conformance.test.ts`;
  if (!existsSync(`${root}${file}`)) continue;
  const t0 = performance.now();
  const res = spawnSync(vitest, ['run', file, '--reporter=dot'], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, CI: 'true' },
  });
  const s = (performance.now() - t0) / 1000;
  const summary = /Tests\s+(.*)/.exec(res.stdout.replace(/\x1b\[[0-9;]*m/g, ''))?.[1]?.trim() ?? `exit ${res.status}`;
  console.log(`  ${d.padEnd(10)} ${s.toFixed(1).padStart(6)} s   ${summary}`);
}

console.log('\nper-call overhead against the zero-latency fake:');
for (const [d, script] of [
  ['aws', 'dist/bench/overhead.js'],
  ['gcp', 'bench/overhead.mjs'],
  ['azure', 'bench/overhead.mjs'],
  ['vsphere', 'bench/overhead.mjs'],
]) {
  const file = `${root}iaas-drivers/${d}/${script}`;
  if (!existsSync(file)) {
    console.log(`  ${d}: no ${script} (build first)`);
    continue;
  }
  console.log(`\n### ${d}`);
  spawnSync(process.execPath, [file, '300'], { cwd: root, stdio: 'inherit' });
}
