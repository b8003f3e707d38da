import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startServer, type ServerProcess } from './support/server.js';

const run = promisify(execFile);
const REPO = fileURLToPath(new URL('..', import.meta.url));

/**
 * The README's tour on a fresh clone: npm links workspace bins while it installs, before `prepare` builds
 * dist/, and silently skips a bin whose target is missing. So the clone installs with `--ignore-scripts`
 * (nothing is built when npm links; better-sqlite3's two-minute compile is not what is under test), then
 * builds, then runs the tour's first commands through `npx --no-install`, exactly as a user types them.
 */
describe('a fresh clone', () => {
  let clone: string;
  let home: string;
  let server: ServerProcess;

  beforeAll(async () => {
    clone = mkdtempSync(join(tmpdir(), 'slipway-clone-'));
    home = mkdtempSync(join(tmpdir(), 'slipway-clone-home-'));
    await run('git', ['clone', '--quiet', '--no-hardlinks', REPO, clone]);
    await run('npm', ['ci', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund'], {
      cwd: clone,
      maxBuffer: 16 << 20,
    });
    await run('npm', ['run', 'build'], { cwd: clone, maxBuffer: 16 << 20 });
    // The server runs from this checkout (its SQLite driver is compiled); the clone's CLI talks to it.
    server = await startServer({ home, port: await freePort(), password: 'fresh-clone-pw' });
  }, 300_000);

  afterAll(async () => {
    await server?.stop();
    rmSync(clone, { recursive: true, force: true });
    rmSync(home, { recursive: true, force: true });
    rmSync(`${home}-keys`, { recursive: true, force: true });
  });

  const npx = (args: string[], env: Record<string, string> = {}) =>
    run('npx', ['--no-install', ...args], { cwd: clone, env: { ...process.env, HOME: clone, ...env } });

  it('runs `npx slipway --version` and `npx slipway-agent --version`', async () => {
    const version = JSON.parse(
      (await run('git', ['show', 'HEAD:core/cli/package.json'], { cwd: REPO })).stdout,
    ).version;
    expect((await npx(['slipway', '--version'])).stdout.trim()).toBe(`slipway ${version}`);
    expect((await npx(['slipway-agent', '--version'])).stdout.trim()).toMatch(/^slipway-agent \d+\.\d+\.\d+$/);
  });

  it('logs in with `npx slipway login` and lists plans', async () => {
    const ca = join(home, 'ca.pem');
    const login = await npx([
      'slipway',
      'login',
      '-a',
      server.url,
      '-u',
      'admin',
      '-p',
      'fresh-clone-pw',
      '--ca-cert',
      ca,
    ]);
    expect(login.stdout).toMatch(/Login successful/);
    const plans = await npx(['slipway', 'plans', '--json']);
    expect(JSON.parse(plans.stdout).map((p: { name: string }) => p.name)).toContain('small');
  });
});
