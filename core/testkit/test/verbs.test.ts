import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { checkSkips, IAAS_CONFORMANCE_TEST_NAMES, missingIaasVerbs } from '../src/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '../../..');

describe('missingIaasVerbs', () => {
  it('lists every required verb a driver lacks and what its capabilities promise', () => {
    const driver = {
      info: async () => ({}),
      createStemcell: async () => ({}),
      deleteStemcell: async () => undefined,
      createVm: async () => ({}),
      deleteVm: async () => undefined,
      hasVm: async () => true,
      createDisk: async () => ({}),
      deleteDisk: async () => undefined,
      attachDisk: async () => ({}),
      detachDisk: async () => undefined,
      hasDisk: async () => true,
      destroy: async () => undefined,
      resizeDisk: 'not a function',
    };
    expect(missingIaasVerbs(driver, ['disk.resize', 'disk.snapshot', 'vm.reboot', 'rehearsal'])).toEqual([
      'setVmMetadata',
      'getDisks',
      'resizeDisk (capability disk.resize)',
      'snapshotDisk (capability disk.snapshot)',
      'deleteSnapshot (capability disk.snapshot)',
      'rebootVm (capability vm.reboot)',
      'rehearsal (capability rehearsal)',
    ]);
  });

  it('finds nothing missing on a complete driver without capabilities', () => {
    const verbs = [
      'info',
      'createStemcell',
      'deleteStemcell',
      'createVm',
      'deleteVm',
      'hasVm',
      'setVmMetadata',
      'createDisk',
      'deleteDisk',
      'attachDisk',
      'detachDisk',
      'hasDisk',
      'getDisks',
      'destroy',
    ];
    expect(missingIaasVerbs(Object.fromEntries(verbs.map((v) => [v, () => undefined])))).toEqual([]);
  });
});

describe('checkSkips', () => {
  it('accepts skips of existing tests with reasons', () => {
    expect(
      checkSkips(
        [{ tests: ['disk > snapshot round-trip'], reason: 'no snapshot API in this region set' }],
        IAAS_CONFORMANCE_TEST_NAMES,
      ),
    ).toEqual([]);
  });

  it('refuses a skip without a reason and a skip of a test that does not exist', () => {
    const problems = checkSkips(
      [
        { tests: ['disk > snapshot round-trip'], reason: '  ' },
        { tests: ['disk > snapshot roundtrip'], reason: 'typo' },
      ],
      IAAS_CONFORMANCE_TEST_NAMES,
    );
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/skip\[0\].*has no reason/);
    expect(problems[1]).toMatch(/"disk > snapshot roundtrip", which is not a test/);
  });
});

interface JsonReport {
  testResults: Array<{
    assertionResults: Array<{ title: string; fullName: string; status: string; failureMessages: string[] }>;
  }>;
}

describe('a driver missing verbs, through a child vitest run', () => {
  it('fails "implements every required verb" naming the missing verbs, fails reasonless skips, and shows skip reasons', async () => {
    const out = await mkdtemp(join(tmpdir(), 'slipway-child-vitest-'));
    try {
      const report = join(out, 'report.json');
      const vitest = join(repoRoot, 'node_modules', 'vitest', 'vitest.mjs');
      // The child run fails by design; its exit code is not the point, its report is.
      await promisify(execFile)(
        process.execPath,
        [
          vitest,
          'run',
          '--config',
          join(here, 'fixtures', 'vitest.child.config.ts'),
          '--reporter=json',
          `--outputFile=${report}`,
        ],
        { cwd: repoRoot, env: { ...process.env, CI: '1' } },
      ).catch(() => undefined);
      const results = (JSON.parse(await readFile(report, 'utf8')) as JsonReport).testResults.flatMap(
        (file) => file.assertionResults,
      );
      const byTitle = (title: string) => results.find((r) => r.title === title || r.title.startsWith(title));

      const verbs = byTitle('implements every required verb');
      expect(verbs?.status).toBe('failed');
      expect(verbs?.failureMessages.join('\n')).toContain(
        'lacks: setVmMetadata, getDisks, snapshotDisk (capability disk.snapshot)',
      );

      expect(byTitle('skips have reasons')?.status).toBe('failed');
      expect(byTitle('skips have reasons')?.failureMessages.join('\n')).toMatch(/skip\[1\].*has no reason/);

      const skipped = byTitle('50 concurrent createVm calls give 50 distinct VMs');
      expect(skipped?.status).toBe('skipped');
      expect(skipped?.title).toContain('(skipped: too slow for this child run)');
      // A reasonless skip skips nothing.
      expect(byTitle('aborting mid-call rejects with Cancelled quickly')?.status).toBe('passed');
      // Capabilities the driver does not declare gate their tests.
      expect(byTitle('resizes a disk')?.title).toContain('(skipped: capability disk.resize not declared)');
      // The verbs that exist still pass.
      expect(byTitle('creates a VM that exists')?.status).toBe('passed');
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  }, 60_000);
});
