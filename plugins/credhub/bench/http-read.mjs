// GET /api/v1/data?name= throughput with values sealed (AES-256-GCM envelope) against the same row stored
// in the clear, through the same app, middleware, permission check and audit. Load comes from wrk.
// Run: npx tsc -b plugins/credhub && node plugins/credhub/bench/http-read.mjs [seconds]
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { serve } from '@hono/node-server';
import { createCredhubApi } from '@slipway/credentials-credhub/http';
import { engine, machine, summary, withStore } from './lib.mjs';

const seconds = Number(process.argv[2] ?? 5);
const run = promisify(execFile);

/** Stores values as they are: the baseline that shows what encryption costs. */
class PlaintextSealer {
  activeKeyId = 'plaintext';
  canOpen(keyId) {
    return keyId === 'plaintext';
  }
  async seal(plaintext) {
    return { sealed: plaintext, wrapped_key: Buffer.alloc(0), key_id: 'plaintext' };
  }
  async open(value) {
    return value.sealed;
  }
}

async function measure(sealer) {
  return withStore(
    async (provider) => {
      await provider.generate({ name: '/bench/app/password', type: 'password' }, engine);
      await provider.grant({ actor: 'user:bench', path: '/bench/app/*', operations: ['read'] }, engine);
      const app = createCredhubApi({
        provider,
        authenticate: async () => ({ actor: 'user:bench', roles: ['clusters.manage'] }),
      });
      const server = await new Promise((ok) => {
        const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => ok(s));
      });
      const url = `http://127.0.0.1:${server.address().port}/api/v1/data?name=/bench/app/password&current=true`;
      try {
        const check = await fetch(url, { headers: { authorization: 'Bearer t' } });
        if (check.status !== 200) throw new Error(`GET answered ${check.status}`);
        const { stdout } = await run('wrk', ['-t1', '-c16', `-d${seconds}s`, '-H', 'Authorization: Bearer t', url]);
        const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)[1]);
        // The same read in process, without HTTP: the provider's share of a request.
        const n = 5000;
        const start = performance.now();
        for (let i = 0; i < n; i++) await provider.getCurrent('/bench/app/password', { actor: 'user:bench' });
        return { rps, inProcess: n / ((performance.now() - start) / 1000) };
      } finally {
        await new Promise((ok) => server.close(ok));
      }
    },
    sealer ? { sealer } : {},
  );
}

console.log(`GET /api/v1/data?name= (current=true), wrk -t1 -c16 -d${seconds}s, audit on (${machine()})`);
const plain = [];
const sealed = [];
for (let round = 0; round < 3; round++) {
  plain.push(await measure(new PlaintextSealer()));
  sealed.push(await measure());
}
const med = (xs, k) => summary(xs.map((x) => x[k])).median;
console.log(
  `  rounds (req/s): plaintext ${plain.map((x) => x.rps.toFixed(0)).join(', ')}; encrypted ${sealed.map((x) => x.rps.toFixed(0)).join(', ')}`,
);
const [p, s] = [med(plain, 'rps'), med(sealed, 'rps')];
console.log(
  `  plaintext row: ${p.toFixed(0)} req/s; encrypted row: ${s.toFixed(0)} req/s; encryption costs ${((1 - s / p) * 100).toFixed(1)}% (ratio ${(s / p).toFixed(3)})`,
);
const [pi, si] = [med(plain, 'inProcess'), med(sealed, 'inProcess')];
console.log(
  `  in process (provider.getCurrent, no HTTP): plaintext ${pi.toFixed(0)}/s, encrypted ${si.toFixed(0)}/s; ratio ${(si / pi).toFixed(3)}`,
);
