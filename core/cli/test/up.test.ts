import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_CONFIG_YAML } from '@slipway/engine';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { READY_PREFIX } from '../src/index.js';
import { UserWorkspace, eventually, type CliRun } from './harness.js';

let user: UserWorkspace;
beforeAll(async () => {
  user = await UserWorkspace.create();
});
afterAll(async () => {
  await user.remove();
});

/** Runs `slipway up` until its ready line; `stop()` sends the signal a Ctrl-C would and returns the run. */
async function up(argv: string[], env: Record<string, string | undefined> = {}) {
  const controller = new AbortController();
  let ready!: (text: string) => void;
  const readyLine = new Promise<string>((resolve) => {
    ready = resolve;
  });
  const running = user.run(['up', ...argv], {
    signal: controller.signal,
    env,
    onStdout: (text) => {
      if (text.includes(READY_PREFIX)) ready(text);
    },
  });
  const stdout = await Promise.race([
    readyLine,
    running.then((r) => {
      throw new Error(`slipway up exited ${r.code}: ${r.stderr}`);
    }),
  ]);
  const url = new RegExp(`^${READY_PREFIX}(https://\\S+)`, 'm').exec(stdout)![1];
  const field = (label: string) => new RegExp(`^${label}:\\s+(.+)$`, 'm').exec(stdout)?.[1];
  return {
    stdout,
    url,
    caPath: field('CA certificate')!,
    password: field('Admin password'),
    stop: async (): Promise<CliRun> => {
      controller.abort();
      return running;
    },
  };
}

describe('slipway up', () => {
  it('starts, prints the URL, CA, config and the generated admin password once, and stops cleanly', async () => {
    const home = join(user.dir, 'generated');
    const first = await up(['--home', home, '--port', '0']);
    expect(first.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(first.stdout).toMatch(new RegExp(`^API URL:\\s+${first.url}$`, 'm'));
    expect(first.caPath).toBe(join(home, 'ca.pem'));
    expect(first.stdout).toMatch(new RegExp(`^Config:\\s+${join(home, 'slipway.yaml')}$`, 'm'));
    expect(await readFile(join(home, 'slipway.yaml'), 'utf8')).toBe(DEFAULT_CONFIG_YAML);
    const password = /^(\S+)\s+\(generated on this first start and shown only once/.exec(first.password!)![1];

    const login = await user.run(['login', '-a', first.url, '-u', 'admin', '-p', password, '--ca-cert', first.caPath]);
    expect(login.code).toBe(0);
    const stopped = await first.stop();
    expect(stopped.code).toBe(0);
    expect(stopped.stdout).toContain('Slipway stopped. Unfinished tasks resume on the next slipway up.');

    const second = await up(['--home', home, '--port', '0']);
    expect(second.password).toBeUndefined();
    expect(second.stdout).not.toContain(password);
    expect(
      (await user.run(['login', '-a', second.url, '-u', 'admin', '-p', password, '--ca-cert', second.caPath])).code,
    ).toBe(0);
    expect((await second.stop()).code).toBe(0);
  });

  it('pauses a running task on stop and finishes it after the next start', async () => {
    const env = { SLIPWAY_HOME: join(user.dir, 'resume'), SLIPWAY_PORT: '0', SLIPWAY_ADMIN_PASSWORD: 'from-the-env-1' };
    const first = await up([], env);
    expect(first.stdout).toMatch(/^Admin password:\s+the one in \$SLIPWAY_ADMIN_PASSWORD$/m);
    expect(first.stdout).toMatch(new RegExp(`^Home:\\s+${env.SLIPWAY_HOME}$`, 'm'));
    expect(
      (
        await user.run([
          'login',
          '-a',
          first.url,
          '-u',
          'admin',
          '-p',
          env.SLIPWAY_ADMIN_PASSWORD,
          '--ca-cert',
          first.caPath,
        ])
      ).code,
    ).toBe(0);
    const created = await user.run([
      'create-cluster',
      'paused',
      '-p',
      'small',
      '-e',
      'paused.example.com',
      '-n',
      '1',
      '--json',
    ]);
    const taskId = JSON.parse(created.stdout).task_id as number;
    expect((await first.stop()).code).toBe(0);

    const second = await up([], env);
    // A new port: log in again, then watch the same task finish.
    expect(
      (
        await user.run([
          'login',
          '-a',
          second.url,
          '-u',
          'admin',
          '-p',
          env.SLIPWAY_ADMIN_PASSWORD,
          '--ca-cert',
          second.caPath,
        ])
      ).code,
    ).toBe(0);
    const task = await eventually(async () => {
      const doc = JSON.parse((await user.run(['task', String(taskId), '--json'])).stdout) as {
        state: string;
        log: Array<{ message: string }>;
      };
      return doc.state === 'done' || doc.state === 'error' ? doc : undefined;
    });
    expect(task.state).toBe('done');
    expect(task.log.map((l) => l.message)).toContain('resumed after a restart of the control plane');
    expect((await second.stop()).code).toBe(0);
  });

  it("a task that fails under --wait exits 1 with the task's error and hint", async () => {
    const file = join(user.dir, 'tight-quota.yaml');
    await writeFile(
      file,
      DEFAULT_CONFIG_YAML.replace('boot_delay_ms: 200', 'boot_delay_ms: 0\n      quotas: { vms: 1 }'),
    );
    const plane = await up(['--home', join(user.dir, 'tight-quota'), '--port', '0', '--config', file], {
      SLIPWAY_ADMIN_PASSWORD: 'quota-pass-1',
    });
    expect(
      (await user.run(['login', '-a', plane.url, '-u', 'admin', '-p', 'quota-pass-1', '--ca-cert', plane.caPath])).code,
    ).toBe(0);
    const run = await user.run(['create-cluster', 'big', '-p', 'small', '-e', 'big.example.com', '-n', '1', '--wait']);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/\[6\/10\] workers: failed/);
    expect(run.stderr).toMatch(
      /^Error: task \d+ \(create cluster big\) failed in step workers: .*VM quota of 1 reached/m,
    );
    expect(run.stderr).toContain('Hint: Raise quotas.vms in the sandbox config, or delete VMs.');
    expect(run.stderr).toMatch(/The task's log: slipway task \d+/);
    const cluster = await user.run(['cluster', 'big']);
    expect(cluster.stdout).toMatch(/^Last Action State:\s+failed$/m);
    expect((await plane.stop()).code).toBe(0);
  });

  it('exits 1 listing every problem of an invalid config', async () => {
    const file = join(user.dir, 'bad-shape.yaml');
    await writeFile(
      file,
      DEFAULT_CONFIG_YAML.replace('port: 9021', 'port: high').replace('kubernetes:', 'colour: blue\nkubernetes:'),
    );
    const run = await user.run(['up', '--home', join(user.dir, 'bad-shape'), '--config', file]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`Error: ${file} is invalid:`);
    expect(run.stderr).toContain('api.port: must be integer');
    expect(run.stderr).toContain('colour: is not a known field');
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('exits 1 listing every refused plugin and plugin config problem', async () => {
    const file = join(user.dir, 'bad-plugins.yaml');
    await writeFile(file, badPluginsConfig());
    const run = await user.run(['up', '--home', join(user.dir, 'bad-plugins'), '--port', '0'], {
      env: { SLIPWAY_CONFIG: file },
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('slipway cannot start its plugins');
    expect(run.stderr).toContain('iaas[0].config.boot_delay_ms: must be >= 0 (plugin @slipway/iaas-sandbox)');
    expect(run.stderr).toContain('iaas[0].config.zonez: is not a known field');
    expect(run.stderr).toMatch(
      /network\.plugin: @acme\/network-nope is not installed .*npm install @acme\/network-nope/,
    );
  });

  it('says which file is missing when --config names none', async () => {
    const run = await user.run(['up', '--home', join(user.dir, 'missing'), '--config', 'nowhere.yaml']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`config file ${join(user.dir, 'nowhere.yaml')} does not exist`);
  });
});

function badPluginsConfig(): string {
  return DEFAULT_CONFIG_YAML.replace('boot_delay_ms: 200', 'boot_delay_ms: -5\n      zonez: [a]').replace(
    'plugin: "@slipway/network-flat"',
    'plugin: "@acme/network-nope"',
  );
}

describe('slipway validate', () => {
  it('accepts the default config and names its plugins and plans', async () => {
    const file = join(user.dir, 'good.yaml');
    await writeFile(file, DEFAULT_CONFIG_YAML);
    const run = await user.run(['validate', file]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`${file} is valid.`);
    expect(run.stdout).toContain('iaas[0]: @slipway/iaas-sandbox ^1 (target sandbox)');
    expect(run.stdout).toContain('Plans: small, ha');
  });

  it("lists every problem with its path, including the plugins' own configs, and exits 1", async () => {
    const file = join(user.dir, 'bad-plugins.yaml');
    await writeFile(file, badPluginsConfig());
    const run = await user.run(['validate', file]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`${file} has 3 problems:`);
    expect(run.stderr).toContain('  iaas[0].config.boot_delay_ms: must be >= 0');
    expect(run.stderr).toContain('  iaas[0].config.zonez: is not a known field');
    expect(run.stderr).toContain('  network.plugin: @acme/network-nope is not installed');
    const json = await user.run(['validate', file, '--json']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toEqual({
      file,
      ok: false,
      errors: expect.arrayContaining([expect.stringContaining('iaas[0].config.zonez')]),
    });
    expect(JSON.parse(json.stdout).errors).toHaveLength(3);
  });

  it('checks the file slipway up would use when none is given', async () => {
    const home = join(user.dir, 'validate-home');
    await mkdir(home, { recursive: true });
    const missing = await user.run(['validate'], { env: { SLIPWAY_HOME: home } });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`Error: ${join(home, 'slipway.yaml')} does not exist`);
    expect(missing.stderr).toContain('Hint: slipway up writes a commented default there on its first start');
    await writeFile(join(home, 'slipway.yaml'), DEFAULT_CONFIG_YAML.replace('port: 9021', 'port: -1'));
    const invalid = await user.run(['validate', '--home', home]);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toContain('api.port: must be >= ');
  });
});
