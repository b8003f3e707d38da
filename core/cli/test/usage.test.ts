import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMAND_GROUPS } from '../src/index.js';
import { flagsOf } from '../src/registry.js';
import { UserWorkspace } from './harness.js';

// Usage is checked before anything is read or sent, so none of these needs a control plane.
let user: UserWorkspace;
beforeAll(async () => {
  user = await UserWorkspace.create();
});
afterAll(async () => {
  await user.remove();
});

const commands = COMMAND_GROUPS.flatMap((g) => g.commands);

describe('help', () => {
  it('lists every command in slipway --help', async () => {
    const run = await user.run(['--help']);
    expect(run.code).toBe(0);
    for (const c of commands)
      expect(run.stdout).toMatch(
        new RegExp(`^  ${c.name}\\s{3,}${c.summary.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'),
      );
    expect((await user.run([])).stdout).toBe(run.stdout);
  });

  it.each(commands.map((c) => [c.name]))('documents every flag and argument of %s', async (name) => {
    const command = commands.find((c) => c.name === name)!;
    const run = await user.run([...name.split(' '), '--help']);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(new RegExp(`^Usage: slipway ${name}\\b`));
    for (const [flag, spec] of Object.entries(flagsOf(command))) {
      expect(run.stdout).toContain(`--${flag}`);
      if (spec.short) expect(run.stdout).toContain(`-${spec.short}, --${flag}`);
      if (spec.env) expect(run.stdout).toContain(`env ${spec.env}`);
    }
    for (const arg of command.args ?? []) expect(run.stdout).toMatch(new RegExp(`^  ${arg.name}\\s`, 'm'));
    // -h and `slipway help CMD` say the same.
    expect((await user.run([...name.split(' '), '-h'])).stdout).toBe(run.stdout);
    expect((await user.run(['help', ...name.split(' ')])).stdout).toBe(run.stdout);
  });

  it('read commands take --json', () => {
    for (const name of ['plans', 'clusters', 'cluster', 'tasks', 'task', 'sandbox inventory', 'validate']) {
      expect(flagsOf(commands.find((c) => c.name === name)!)).toHaveProperty('json');
    }
  });

  it('prints the version', async () => {
    const run = await user.run(['--version']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^slipway \d+\.\d+\.\d+\n$/);
  });
});

describe('bad usage exits 2 naming what is wrong', () => {
  const cases: Array<[string, string[], RegExp]> = [
    ['an unknown flag', ['clusters', '--all'], /unknown flag --all for slipway clusters/],
    ['an unknown short flag', ['plans', '-x'], /unknown flag -x for slipway plans/],
    [
      'a missing required flag',
      ['create-cluster', 'dev', '--external-hostname', 'dev.example.com'],
      /missing required flag --plan \(-p\) for slipway create-cluster/,
    ],
    [
      'another missing required flag',
      ['create-cluster', 'dev', '-p', 'small'],
      /missing required flag --external-hostname \(-e\)/,
    ],
    [
      'a flag without its value',
      ['create-cluster', 'dev', '-e', 'h.example.com', '--plan'],
      /--plan needs a value \(PLAN\)/,
    ],
    [
      'a flag followed by another flag',
      ['create-cluster', 'dev', '--plan', '--wait', '-e', 'h'],
      /--plan needs a value \(PLAN\); got the flag --wait/,
    ],
    ['a value given to a switch', ['clusters', '--json=yes'], /--json takes no value/],
    ['a missing argument', ['cluster'], /missing argument NAME for slipway cluster/],
    ['an extra argument', ['cluster', 'a', 'b'], /unexpected argument "b" for slipway cluster/],
    [
      'a number that is not one',
      ['resize', 'dev', '--num-nodes', 'many'],
      /--num-nodes must be an integer; got "many"/,
    ],
    ['a negative number', ['resize', 'dev', '-n', '-1'], /--num-nodes must be at least 1; got -1/],
    ['zero workers on a resize', ['resize', 'dev', '--num-nodes', '0'], /--num-nodes must be at least 1; got 0/],
    [
      'zero workers on a create',
      ['create-cluster', 'dev', '-p', 'small', '-e', 'dev.example.com', '-n', '0'],
      /--num-nodes must be at least 1; got 0/,
    ],
    ['a limit out of range', ['tasks', '--limit', '0'], /--limit must be at least 1/],
    ['a bad task id', ['task', 'abc'], /task ID must be a positive integer; got "abc"/],
    ['an unknown command', ['clustrs'], /unknown command "clustrs"; did you mean "clusters"\?/],
    [
      'an unknown sandbox command',
      ['sandbox', 'kil-vm', 'x'],
      /unknown command "sandbox kil-vm"; did you mean "sandbox kill-vm"\?/,
    ],
    [
      'a CA and -k together',
      ['login', '-a', 'https://127.0.0.1:1', '-u', 'a', '-p', 'b', '--ca-cert', 'ca.pem', '-k'],
      /--ca-cert and -k\/--skip-ssl-validation exclude each other/,
    ],
    ['a plain http API', ['login', '-a', 'http://127.0.0.1:9021', '-u', 'a', '-p', 'b'], /must be an https URL/],
    ['a bad port', ['up', '--port', '70000'], /--port must be at most 65535/],
    ['a bad port from the environment', ['up'], /\$SLIPWAY_PORT must be an integer; got "abc"/],
    ['a delete without a terminal', ['delete-cluster', 'dev'], /pass --non-interactive to delete dev without asking/],
  ];

  it.each(cases)('%s', async (_what, argv, message) => {
    const run = await user.run(argv, {
      env: { SLIPWAY_PORT: argv[0] === 'up' && argv.length === 1 ? 'abc' : undefined },
    });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(message);
    expect(run.stderr).toMatch(/^Run: slipway (\S+ )*--help$/m);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it("points at the command's own help", async () => {
    const run = await user.run(['create-cluster', 'dev', '--bogus']);
    expect(run.stderr).toContain('Run: slipway create-cluster --help');
  });
});

describe('session state', () => {
  it('says to log in when no token is stored', async () => {
    const run = await user.run(['clusters']);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('Error: you are not logged in\nHint: Run: slipway login -a API_URL -u USER -p PASSWORD\n');
  });

  it('says the login expired, without calling the API', async () => {
    await mkdir(dirname(user.cliConfig), { recursive: true });
    // Port 1: if the CLI called the API anyway, the error would be a refused connection instead.
    await writeFile(
      user.cliConfig,
      JSON.stringify({
        api: 'https://127.0.0.1:1',
        user: 'dev',
        access_token: 't',
        expires_at: new Date(Date.now() - 1000).toISOString(),
      }),
    );
    const run = await user.run(['plans']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^Error: your login to https:\/\/127\.0\.0\.1:1 expired at \d{4}-\d\d-\d\dT/);
    expect(run.stderr).toContain('Hint: Run: slipway login -a https://127.0.0.1:1 -u dev -p PASSWORD');
  });

  it('says the control plane is not reachable when nothing listens', async () => {
    await writeFile(
      user.cliConfig,
      JSON.stringify({
        api: 'https://127.0.0.1:1',
        user: 'dev',
        access_token: 't',
        expires_at: new Date(Date.now() + 60_000).toISOString(),
      }),
    );
    const run = await user.run(['clusters']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('Error: cannot reach https://127.0.0.1:1: connection refused');
    expect(run.stderr).toContain('Hint: Is the control plane running (slipway up)?');
  });
});
