import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SlipwayError } from '@slipway/contracts';
import { ADVERTISE_URL_SETTING, createStore } from '@slipway/engine';
import { startControlPlane } from '../src/index.js';

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

async function tempHome(): Promise<string> {
  const home = await mkdtemp(join(tmpdir(), 'slipway-advertise-'));
  cleanup.push(
    () => rm(home, { recursive: true, force: true }),
    () => rm(`${home}-keys`, { recursive: true, force: true }),
  );
  return home;
}

/** A home whose first start advertised `url` and whose cluster has a VM (as the store records them). */
async function homeWithVmsAdvertising(url: string): Promise<string> {
  const home = await tempHome();
  const first = await startControlPlane({ home, port: 0, adminPassword: 'advertise-pw-1', log: () => {}, env: {} });
  await first.stop();
  const store = await createStore(join(home, 'slipway.db'));
  const now = new Date().toISOString();
  await store.settings.set(ADVERTISE_URL_SETTING, url);
  await store.db
    .insertInto('clusters')
    .values({
      uuid: 'c1',
      name: 'c',
      owner: 'admin',
      plan_name: 'small',
      iaas: 'sandbox',
      external_hostname: 'c.example.test',
      k8s_version: '1.31.4',
      stemcell: 'ubuntu-jammy/1.600',
      master_instances: 1,
      worker_instances: 0,
      api_address: null,
      status: 'active',
      live: 1,
      created_at: now,
      updated_at: now,
    })
    .execute();
  await store.instances.insert([
    {
      id: 'i1',
      cluster_uuid: 'c1',
      group_name: 'master',
      idx: 0,
      agent_id: 'a1',
      vm_cid: 'vm-1',
      ip: '10.0.0.2',
      zone: 'z1',
      desired: 'present',
      state: 'running',
      last_heartbeat_at: now,
      processes: null,
      desired_generation: 1,
      applied_generation: 1,
      drained: 0,
      mounted_disk_cid: null,
      created_at: now,
      updated_at: now,
    },
  ]);
  await store.db.destroy();
  return home;
}

async function occupiedPort(): Promise<{ port: number; free(): Promise<void> }> {
  const server: Server = createServer();
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', () => ok()));
  const free = () =>
    new Promise<void>((ok) => {
      if (server.listening) server.close(() => ok());
      else ok();
    });
  cleanup.push(free);
  return { port: (server.address() as { port: number }).port, free };
}

describe('a restart while VMs exist never leaves their agents dialing a dead address', () => {
  it('refuses to start on another port when the port agents dial is taken, naming both and what to do', async () => {
    const occupied = await occupiedPort();
    const taken = occupied.port;
    const home = await homeWithVmsAdvertising(`https://127.0.0.1:${taken}`);
    const error = await startControlPlane({
      home,
      port: 0,
      adminPassword: 'advertise-pw-1',
      log: () => {},
      env: {},
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(SlipwayError.is(error, 'Conflict')).toBe(true);
    expect((error as Error).message).toContain(`agents of existing VMs dial https://127.0.0.1:${taken}`);
    expect((error as Error).message).toContain('EADDRINUSE');
    expect((error as SlipwayError).hint).toContain(`--port ${taken}`);
    // The refusal released everything: the home starts once the port is free.
    await occupied.free();
    const started = await startControlPlane({ home, port: 0, adminPassword: 'advertise-pw-1', log: () => {}, env: {} });
    expect(started.advertiseUrl).toBe(`https://127.0.0.1:${taken}`);
    await started.stop();
  });

  it("refuses when agents dial an address of an earlier start that is not this machine's, unless the operator says it is routed here", async () => {
    const home = await homeWithVmsAdvertising('https://10.99.0.5:9021');
    const error = await startControlPlane({
      home,
      port: 0,
      adminPassword: 'advertise-pw-1',
      log: () => {},
      env: {},
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((error as Error).message).toContain(
      'agents of existing VMs dial https://10.99.0.5:9021 (the URL of an earlier start), which this start does not serve',
    );
    expect((error as SlipwayError).hint).toContain('set api.advertise_url: https://10.99.0.5:9021');
    const routed = await startControlPlane({
      home,
      port: 0,
      adminPassword: 'advertise-pw-1',
      log: () => {},
      env: { SLIPWAY_CONFIG: '' },
      configPath: await withAdvertiseUrl(home, 'https://10.99.0.5:9021'),
    });
    expect(routed.advertiseUrl).toBe('https://10.99.0.5:9021');
    await routed.stop();
  });
});

async function withAdvertiseUrl(home: string, url: string): Promise<string> {
  const { readFile, writeFile } = await import('node:fs/promises');
  const text = await readFile(join(home, 'slipway.yaml'), 'utf8');
  const file = join(home, 'routed.yaml');
  await writeFile(file, text.replace(/^api:\n/m, `api:\n  advertise_url: ${url}\n`));
  return file;
}
