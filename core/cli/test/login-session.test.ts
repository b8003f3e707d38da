import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, UserWorkspace, apiGet, startTestControlPlane } from './harness.js';

type ControlPlane = Awaited<ReturnType<typeof startTestControlPlane>>;

let plane: ControlPlane;
let user: UserWorkspace;
const stored = async () =>
  JSON.parse(await readFile(user.cliConfig, 'utf8')) as { access_token?: string; skip_ssl_validation?: boolean };

beforeAll(async () => {
  [plane, user] = await Promise.all([startTestControlPlane(), UserWorkspace.create()]);
}, 120_000);

afterAll(async () => {
  await plane?.stop();
  await user?.remove();
});

describe('slipway login and logout', () => {
  it('reads the password from stdin when -p is absent and stdin is not a terminal', async () => {
    const run = await user.run(['login', '-a', plane.cp.url, '-u', 'admin', '--ca-cert', plane.cp.caPath], {
      input: `${ADMIN_PASSWORD}\n`,
    });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Login successful.');
  }, 60_000);

  it('asks for the password on a terminal without echoing it', async () => {
    const run = await user.run(['login', '-a', plane.cp.url, '-u', 'admin', '--ca-cert', plane.cp.caPath], {
      input: `${ADMIN_PASSWORD}\r`,
      tty: true,
    });
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('Password: ');
    expect(run.stderr + run.stdout).not.toContain(ADMIN_PASSWORD);
  }, 60_000);

  it('says what to do when there is no password at all', async () => {
    const run = await user.run(['login', '-a', plane.cp.url, '-u', 'admin', '--ca-cert', plane.cp.caPath], {
      input: '',
    });
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/no password given/);
  });

  it('logout revokes the token on the server, so a copy of it stops working', async () => {
    const token = (await stored()).access_token!;
    expect(Array.isArray(await apiGet(plane.cp, token, '/v1/plans'))).toBe(true);
    const out = await user.run(['logout']);
    expect(out.code).toBe(0);
    expect(out.stdout).toContain('the token is revoked');
    expect((await stored()).access_token).toBeUndefined();
    expect(await apiGet(plane.cp, token, '/v1/plans')).toMatchObject({ code: 'Unauthenticated' });
  }, 60_000);

  it('records -k visibly and every later command warns that the certificate is not verified', async () => {
    const login = await user.run(['login', '-a', plane.cp.url, '-u', 'admin', '-p', ADMIN_PASSWORD, '-k']);
    expect(login.code).toBe(0);
    expect(login.stderr).toMatch(/records skip_ssl_validation/);
    expect((await stored()).skip_ssl_validation).toBe(true);
    const plans = await user.run(['plans']);
    expect(plans.code).toBe(0);
    expect(plans.stderr).toMatch(/Warning: not verifying the certificate of .* \(logged in with -k\)/);
    // A login with the CA ends it.
    await user.run(['login', '-a', plane.cp.url, '-u', 'admin', '-p', ADMIN_PASSWORD, '--ca-cert', plane.cp.caPath]);
    expect((await user.run(['plans'])).stderr).toBe('');
  }, 60_000);
});
