// Shared by the benchmarks: they run the compiled packages (npx tsc -b plugins/credhub first).
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCredhubProvider } from '@slipway/credentials-credhub';

export const engine = { actor: 'slipway:engine' };

/** A fresh store in a temp directory, destroyed and removed after `fn`. */
export async function withStore(fn, options = {}) {
  const dataDir = await mkdtemp(join(tmpdir(), 'credhub-bench-'));
  const provider = await openCredhubProvider({ dataDir, ...options });
  try {
    return await fn(provider);
  } finally {
    await provider.destroy();
    await rm(dataDir, { recursive: true, force: true });
  }
}

export function summary(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { min: sorted[0], median: at(0.5), max: sorted[sorted.length - 1] };
}

export async function forEachLimit(items, limit, work) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await work(items[next++]);
    }),
  );
}

/** What the figures were measured on: they mean little without it. */
export function machine() {
  return `node ${process.version}, ${cpus().length} cores, load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`;
}
