import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NetworkDriver, PluginHost } from '@slipway/contracts';
import plugin from '../src/index.js';
import { apiCertificate, greet, removeDir, startMaster } from './support/tls-masters.js';

const HAPROXY = '/usr/sbin/haproxy';
const have = existsSync(HAPROXY);
const INTERVAL_MS = 500;
const PORT = 8443;
const quiet = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return quiet;
  },
};

// Masters get their own loopback addresses, as the local IaaS driver gives every VM one (127/8 routes to lo).
const config = {
  ranges: { local: { cidr: '127.78.0.0/24' } },
  load_balancer: {
    mode: 'haproxy',
    vip_range: '127.77.2.10-127.77.2.20',
    haproxy_binary: HAPROXY,
    health_check_interval_ms: INTERVAL_MS,
  },
};

describe.skipIf(!have)(
  `the flat network's HAProxy API VIP in front of real TLS masters${have ? '' : ` (skipped: ${HAPROXY} is not installed)`}`,
  () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'flat-vip-'));
    const host: PluginHost = {
      logger: quiet,
      clock: { now: Date.now, sleep: async () => {} },
      dataDir,
      instanceName: 'default',
    };
    const clusterId = '3f9a6c2e-0d1b-4c5e-9a7f-1b2c3d4e5f60';
    const masters = new Map<string, ChildProcess>();
    let net: NetworkDriver;
    let addresses: string[];
    let vip: string;
    let tls: ReturnType<typeof apiCertificate>;

    beforeAll(async () => {
      net = await plugin.create(config as never, host);
      await net.prepareCluster({ clusterId, clusterName: 'vip', iaas: 'local' });
      addresses = await Promise.all(
        [0, 1, 2, 3].map(
          async (i) => (await net.allocateAddress({ clusterId, owner: `master-${i}`, iaas: 'local' })).ip,
        ),
      );
      vip = '127.77.2.10';
      tls = apiCertificate([vip, ...addresses]);
      for (const [i, address] of addresses.slice(0, 3).entries())
        masters.set(`master-${i}`, await startMaster(`master-${i}`, address, PORT, tls.dir));
    }, 60_000);

    afterAll(async () => {
      for (const child of masters.values()) child.kill('SIGKILL');
      await net?.teardownCluster({ clusterId });
      await net?.destroy();
      removeDir(tls.dir);
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('answers TLS on the VIP and spreads connections over every master', async () => {
      const endpoint = await net.ensureApiEndpoint({ clusterId, port: PORT, masters: addresses.slice(0, 3) });
      expect(endpoint).toMatchObject({ address: vip, loadBalanced: true });
      const seen = new Set<string>();
      for (let i = 0; i < 9; i++) seen.add(await greet(vip, PORT, tls.cert));
      expect([...seen].sort(), 'round robin reaches every master, each verified against the API certificate').toEqual([
        'master-0',
        'master-1',
        'master-2',
      ]);
    });

    it('keeps answering when master-0 dies, within the health-check interval, and reports it unhealthy', async () => {
      const master0 = masters.get('master-0')!;
      // The clock starts when master-0 is gone: a connection the dying process had already accepted is reset,
      // which no load balancer can hand to another member.
      await new Promise((resolve) => {
        master0.once('exit', resolve);
        master0.kill('SIGKILL');
      });
      const killedAt = Date.now();
      let firstAnswer: number | undefined;
      const failures: string[] = [];
      // Fresh connections for two intervals: each must reach a live master.
      while (Date.now() - killedAt < 2 * INTERVAL_MS) {
        try {
          const who = await greet(vip, PORT, tls.cert);
          firstAnswer ??= Date.now() - killedAt;
          expect(who).not.toBe('master-0');
        } catch (e) {
          failures.push(String(e));
        }
      }
      console.info(`VIP answered ${firstAnswer} ms after master-0 was killed; ${failures.length} failed connections`);
      expect(firstAnswer, 'the VIP answers within the health-check interval (+ 500 ms slack)').toBeLessThan(
        INTERVAL_MS + 500,
      );
      expect(failures, 'no client connection failed: refused ones were redispatched to a live master').toEqual([]);
      // fall 2: down after two failed checks.
      const deadline = Date.now() + 3 * INTERVAL_MS + 1_000;
      let health: boolean | undefined;
      while (Date.now() < deadline) {
        const endpoint = await net.ensureApiEndpoint({ clusterId, port: PORT, masters: addresses.slice(0, 3) });
        health = endpoint.members?.find((m) => m.address === addresses[0])?.healthy;
        if (health === false) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(health, "HAProxy's health check took master-0 out").toBe(false);
    });

    it('follows a recreated master with a soft reload: an open connection survives, the new member serves', async () => {
      const open = connect({ host: vip, port: PORT, ca: tls.cert });
      const lines: string[] = [];
      open.on('data', (d) => lines.push(...d.toString().trim().split('\n')));
      await new Promise((r) => open.once('secureConnect', r));
      // master-0 is recreated on a new address (master-3's), as the resurrector's new VM would be.
      masters.set('master-3', await startMaster('master-3', addresses[3]!, PORT, tls.dir));
      const endpoint = await net.ensureApiEndpoint({
        clusterId,
        port: PORT,
        masters: [addresses[3]!, addresses[1]!, addresses[2]!],
      });
      expect(endpoint.address, 'the VIP does not move').toBe(vip);
      expect(endpoint.members?.map((m) => m.address).sort()).toEqual(
        [addresses[3]!, addresses[1]!, addresses[2]!].sort(),
      );
      open.write('still-here\n');
      await new Promise((r) => setTimeout(r, 300));
      expect(lines, 'the connection opened before the reload still echoes').toContain('still-here');
      open.end();
      const seen = new Set<string>();
      for (let i = 0; i < 9; i++) seen.add(await greet(vip, PORT, tls.cert));
      expect([...seen].sort()).toEqual(['master-1', 'master-2', 'master-3']);
    });

    it('is adopted by a restarted control plane, and started again by its supervision when it dies', async () => {
      const pidOf = async (d: NetworkDriver) =>
        (await d.listClusterObjects!()).find((o) => o.clusterId === clusterId && o.kind === 'haproxy-process')?.id;
      const before = await pidOf(net);
      expect(before).toBeDefined();
      await net.destroy();
      // A new driver on the same data directory: the running HAProxy is adopted, not restarted.
      net = await plugin.create(config as never, host);
      expect(await pidOf(net), 'the same HAProxy process').toBe(before);
      expect(await greet(vip, PORT, tls.cert)).toMatch(/^master-/);
      process.kill(Number(before), 'SIGKILL');
      const deadline = Date.now() + 2 * Math.max(1_000, INTERVAL_MS) + 2_000;
      let after: string | undefined;
      while (Date.now() < deadline && (after === undefined || after === before)) {
        await new Promise((r) => setTimeout(r, 100));
        after = await pidOf(net);
      }
      expect(after, 'a new HAProxy runs').toBeDefined();
      expect(after).not.toBe(before);
      expect(await greet(vip, PORT, tls.cert)).toMatch(/^master-/);
    });

    it('teardown stops HAProxy and frees the VIP', async () => {
      await net.teardownCluster({ clusterId });
      await expect(greet(vip, PORT, tls.cert, 500)).rejects.toThrow();
      expect(await net.listClusterObjects!()).toEqual([]);
    });
  },
);

describe.skipIf(!have)('keep_running: false', () => {
  it('stops the balancers with the driver, and the next start brings them back on the same VIP', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'flat-vip-stop-'));
    const host: PluginHost = {
      logger: quiet,
      clock: { now: Date.now, sleep: async () => {} },
      dataDir,
      instanceName: 'default',
    };
    const stopping = {
      ranges: { local: { cidr: '127.78.1.0/24' } },
      load_balancer: {
        mode: 'haproxy',
        vip_range: '127.77.2.30-127.77.2.31',
        haproxy_binary: HAPROXY,
        health_check_interval_ms: INTERVAL_MS,
        keep_running: false,
      },
    };
    const clusterId = '6a1d0c3e-7f2b-4c1a-8e9d-0a1b2c3d4e5f';
    const pid = async (d: NetworkDriver) =>
      (await d.listClusterObjects!()).find((o) => o.kind === 'haproxy-process')?.id;
    let net = await plugin.create(stopping as never, host);
    try {
      await net.prepareCluster({ clusterId, clusterName: 'stop', iaas: 'local' });
      const master = (await net.allocateAddress({ clusterId, owner: 'master-0', iaas: 'local' })).ip;
      const first = await net.ensureApiEndpoint({ clusterId, port: PORT, masters: [master] });
      const before = await pid(net);
      expect(before).toBeDefined();
      await net.destroy();
      expect(existsSync(`/proc/${before}`) && !isZombie(Number(before)), 'HAProxy stopped with the driver').toBe(false);
      net = await plugin.create(stopping as never, host);
      const after = await pid(net);
      expect(after, 'started again by the next driver').toBeDefined();
      expect((await net.ensureApiEndpoint({ clusterId, port: PORT, masters: [master] })).address).toBe(first.address);
    } finally {
      await net.teardownCluster({ clusterId });
      await net.destroy();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 30_000);
});

/** A zombie (exited, not yet reaped by its reparented parent) has stopped too. */
function isZombie(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return true;
  }
}
