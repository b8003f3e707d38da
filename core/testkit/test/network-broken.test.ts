import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '../../..');

interface JsonReport {
  testResults: Array<{ assertionResults: Array<{ title: string; status: string; failureMessages: string[] }> }>;
}

describe('a broken network driver, through a child vitest run', () => {
  it('fails where the VIP moves, teardown leaves objects, a signal is ignored and a skip has no reason', async () => {
    const out = await mkdtemp(join(tmpdir(), 'slipway-network-child-'));
    try {
      const report = join(out, 'report.json');
      const vitest = join(repoRoot, 'node_modules', 'vitest', 'vitest.mjs');
      // The child run fails by design; its report is the point.
      await promisify(execFile)(
        process.execPath,
        [
          vitest,
          'run',
          '--config',
          join(here, 'fixtures', 'vitest.network-child.config.ts'),
          '--reporter=json',
          `--outputFile=${report}`,
        ],
        { cwd: repoRoot, env: { ...process.env, CI: '1' } },
      ).catch(() => undefined);
      const results = (JSON.parse(await readFile(report, 'utf8')) as JsonReport).testResults.flatMap(
        (file) => file.assertionResults,
      );
      const status = (title: string) => results.find((r) => r.title.startsWith(title));
      expect(status('with lb, the VIP stays the same while the members follow recreated masters')?.status).toBe(
        'failed',
      );
      expect(
        status('with lb, the VIP stays the same while the members follow recreated masters')?.failureMessages.join(
          '\n',
        ),
      ).toMatch(/expected '192\.168\.100\.\d+' to be '192\.168\.100\.\d+'/);
      expect(status("none of a cluster's objects are left after teardown")?.status).toBe('failed');
      expect(status('lifecycle: prepare, allocate, endpoint and teardown')?.status).toBe('failed');
      expect(status('every verb refuses an already-aborted signal')?.status).toBe('failed');
      expect(status('every verb refuses an already-aborted signal')?.failureMessages.join('\n')).toContain(
        'releaseAddress with an aborted signal',
      );
      expect(status('skips have reasons')?.status).toBe('failed');
      // What the breaks do not touch still passes: the suite blames the right tests.
      expect(status('prepareCluster is idempotent')?.status).toBe('passed');
      expect(status("a node of one cluster cannot reach another cluster's nodes")?.status).toBe('passed');
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  }, 120_000);
});
