import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, startTestControlPlane, UserWorkspace } from './harness.js';

let plane: Awaited<ReturnType<typeof startTestControlPlane>>;
let admin: UserWorkspace;
let alice: UserWorkspace;

beforeAll(async () => {
  plane = await startTestControlPlane();
  admin = await UserWorkspace.create();
  alice = await UserWorkspace.create();
  expect(
    (await admin.run(['login', '-a', plane.cp.url, '-u', 'admin', '-p', ADMIN_PASSWORD, '--ca-cert', plane.cp.caPath]))
      .code,
  ).toBe(0);
}, 60_000);
afterAll(async () => {
  await admin?.remove();
  await alice?.remove();
  await plane?.stop();
});

describe('slipway users', () => {
  it('creates a user from a password typed twice on a terminal, or piped on stdin, and lists it', async () => {
    const typed = await admin.run(['users', 'create', 'alice', '--role', 'clusters.manage'], {
      tty: true,
      input: 'alice-password\nalice-password\n',
    });
    expect(typed.stdout).toBe('User alice created with clusters.manage.\n');
    expect(typed.stderr).toContain('Password for alice: ');
    expect(typed.stderr).not.toContain('alice-password');
    const mistyped = await admin.run(['users', 'create', 'bob', '--role', 'clusters.manage'], {
      tty: true,
      input: 'bob-password\nbob-passwrod\n',
    });
    expect(mistyped.code).not.toBe(0);
    expect(mistyped.stderr).toContain('the two passwords differ');
    const piped = await admin.run(['users', 'create', 'bob', '--role', 'pks.clusters.manage,clusters.admin.read'], {
      input: 'bob-password\n',
    });
    expect(piped.code).toBe(0);
    const again = await admin.run(['users', 'create', 'bob', '--role', 'clusters.manage'], { input: 'bob-password\n' });
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain('user "bob" already exists');
    expect(
      (await admin.run(['users', 'create', 'carol', '--role', 'clusters.root'], { input: 'x\n' })).stderr,
    ).toContain('unknown role clusters.root');

    const list = await admin.run(['users', 'list']);
    expect(list.stdout).toMatch(/alice\s+\d+\s+clusters\.manage/);
    expect(list.stdout).toMatch(/bob\s+\d+\s+clusters\.manage, clusters\.admin\.read/);
    const json = JSON.parse((await admin.run(['users', 'list', '--json'])).stdout) as Array<{
      name: string;
      actor: string;
    }>;
    expect(json.find((u) => u.name === 'alice')?.actor).toMatch(/^user:\d+$/);
  });

  it('sets roles, lets a user change its own password with its current one, and deletes', async () => {
    expect((await admin.run(['users', 'set-roles', 'bob', '--role', 'clusters.admin.read'])).stdout).toBe(
      'User bob now has clusters.admin.read.\n',
    );
    expect(
      (
        await alice.run([
          'login',
          '-a',
          plane.cp.url,
          '-u',
          'alice',
          '-p',
          'alice-password',
          '--ca-cert',
          plane.cp.caPath,
        ])
      ).code,
    ).toBe(0);
    const wrong = await alice.run(['users', 'set-password', 'alice', '--own'], {
      input: 'not-my-password\nalice-new-password\n',
    });
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toContain('current password');
    const own = await alice.run(['users', 'set-password', 'alice', '--own'], {
      input: 'alice-password\nalice-new-password\n',
    });
    expect(own.stdout).toBe('Password of alice changed.\n');
    expect(
      (
        await alice.run([
          'login',
          '-a',
          plane.cp.url,
          '-u',
          'alice',
          '-p',
          'alice-new-password',
          '--ca-cert',
          plane.cp.caPath,
        ])
      ).code,
    ).toBe(0);
    // Not an admin: other users' business is refused.
    expect((await alice.run(['users', 'list'])).code).not.toBe(0);

    expect((await admin.run(['users', 'delete', 'bob'])).stderr).toContain('--non-interactive');
    expect((await admin.run(['users', 'delete', 'bob', '--non-interactive'])).stdout).toBe('User bob deleted.\n');
    expect((await admin.run(['users', 'list'])).stdout).not.toMatch(/^bob\b/m);
  });
});
