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

describe('a driver whose verbs succeed and do nothing, through a child vitest run', () => {
  it('fails "resizes a disk" when resizeDisk leaves the disk at its old size', async () => {
    const out = await mkdtemp(join(tmpdir(), 'slipway-noop-child-'));
    try {
      const report = join(out, 'report.json');
      const vitest = join(repoRoot, 'node_modules', 'vitest', 'vitest.mjs');
      // Only the disk group: the rest of the suite is what conformance.test.ts runs on the good driver.
      await promisify(execFile)(
        process.execPath,
        [
          vitest,
          'run',
          '--config',
          join(here, 'fixtures', 'vitest.noop-child.config.ts'),
          '-t',
          'disk',
          '--reporter=json',
          `--outputFile=${report}`,
        ],
        { cwd: repoRoot, env: { ...process.env, CI: '1' } },
      ).catch(() => undefined);
      const results = (JSON.parse(await readFile(report, 'utf8')) as JsonReport).testResults.flatMap(
        (file) => file.assertionResults,
      );
      const resize = results.find((r) => r.title === 'resizes a disk');
      expect(resize?.status).toBe('failed');
      expect(resize?.failureMessages.join('\n')).toContain('the cloud holds the disk at its new size after resizeDisk');
      // The other disk tests still pass: the suite blames the verb that did nothing.
      expect(results.find((r) => r.title === 'creates, attaches, lists, detaches and deletes a disk')?.status).toBe(
        'passed',
      );
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  }, 120_000);
});
