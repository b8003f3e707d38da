import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CertificateValue, JobStatus } from '@slipway/contracts';
import { killVmTree, readInventory } from '../src/index.js';
import { ensureBuilt } from './support.js';
// @ts-expect-error plain JavaScript shared with the benchmarks
import { startLocalControlPlane } from './local-control-plane.mjs';

const HAPROXY = '/usr/sbin/haproxy';
const have = existsSync(HAPROXY) && existsSync('/usr/bin/etcd');
const INTERVAL_MS = 1000;

// A stand-in for kube-apiserver (no package here ships it): the same flags, a real HTTPS server on the node's
// address with the serving certificate and key the control plane issued, answering /livez as the agent's
// health check expects and naming the node on /.
const APISERVER = `#!${process.execPath}
const https = require('node:https'); const fs = require('node:fs');
const flag = (n) => process.argv.find((a) => a.startsWith('--' + n + '='))?.split('=').slice(1).join('=');
const node = flag('advertise-address');
https.createServer({ cert: fs.readFileSync(flag('tls-cert-file')), key: fs.readFileSync(flag('tls-private-key-file')) }, (req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end(req.url === '/livez' ? 'ok' : node);
}).listen(Number(flag('secure-port')), flag('bind-address'));
`;

/** GET https://VIP:8443/ verified against the cluster's CA: the VIP must be in the API certificate. */
function apiGet(address: string, ca: string, timeoutMs = 2_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: address, port: 8443, path: '/', ca, agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve(body));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

/**
 * Masters on the local driver (process trees, each on its own loopback address) behind the flat network's
 * HAProxy VIP: the API answers on the VIP with the cluster's own certificate, and keeps answering when
 * master-0's VM dies.
 */
describe.skipIf(!have)(
  `the API VIP in front of local masters${have ? '' : ' (skipped: haproxy or etcd is not installed)'}`,
  () => {
    let cp: Awaited<ReturnType<typeof startLocalControlPlane>>;
    let bin: string;
    let uuid: string;

    beforeAll(async () => {
      ensureBuilt(['iaas-drivers/local']);
      bin = mkdtempSync(join(tmpdir(), 'slipway-bin-'));
      writeFileSync(join(bin, 'kube-apiserver'), APISERVER);
      chmodSync(join(bin, 'kube-apiserver'), 0o755);
      // One VIP on a loopback /24 the VMs' random ranges never use (their third octet stays below 251).
      const vip = `127.${100 + Math.floor(Math.random() * 100)}.254.10`;
      cp = await startLocalControlPlane({
        masters: 3,
        binDirs: [bin],
        network: {
          load_balancer: {
            mode: 'haproxy',
            vip_range: `${vip}-${vip}`,
            haproxy_binary: HAPROXY,
            health_check_interval_ms: INTERVAL_MS,
          },
        },
        // A dead master is replaced, but the VIP must not wait for that: the resurrector is kept slow here.
        health: { analyze_interval_seconds: 0.5, cloud_check_interval_seconds: 30, agent_timeout_seconds: 30 },
      });
    }, 120_000);

    afterAll(async () => {
      if (uuid) await cp?.engine.plugins.network.teardownCluster({ clusterId: uuid });
      await cp?.stop();
      await cp?.killAll();
      rmSync(bin, { recursive: true, force: true });
    }, 60_000);

    it("answers on the VIP with the cluster's certificate and still answers within the health-check interval when master-0 dies", async () => {
      const created = await cp.createCluster('vip', { timeoutMs: 300_000 });
      uuid = created.uuid;
      const cluster = await cp.engine.store.clusters.findByUuid(uuid);
      const masters = (await cp.instances(uuid))
        .filter((i: { group_name: string }) => i.group_name === 'master')
        .sort((a: { idx: number }, b: { idx: number }) => a.idx - b.idx);
      for (const m of masters) {
        const apiserver = (JSON.parse(m.processes) as JobStatus[]).find((j) => j.name === 'kube-apiserver')!
          .processes[0]!;
        expect(apiserver.state, `kube-apiserver on master/${m.idx}`).toBe('running');
      }
      const vip: string = cluster.api_address;
      expect(masters.map((m: { ip: string }) => m.ip)).not.toContain(vip);
      const ca = ((await cp.credential(uuid, 'kubernetes-ca')) as CertificateValue).certificate;
      // A member HAProxy has not checked yet may be skipped (redispatch): every master answers within a few checks.
      const seen = new Set<string>();
      const until = Date.now() + 3 * INTERVAL_MS;
      while (seen.size < masters.length && Date.now() < until) seen.add(await apiGet(vip, ca));
      expect([...seen].sort(), 'the VIP reaches every master, TLS verified against the cluster CA').toEqual(
        masters.map((m: { ip: string }) => m.ip).sort(),
      );

      // master-0's VM dies: its whole process tree, kube-apiserver included.
      const vm = readInventory(join(cp.root, 'state.json')).vms[masters[0].vm_cid]!;
      await killVmTree(cp.root, vm, 0);
      const killedAt = Date.now();
      const answers: number[] = [];
      const failures: string[] = [];
      while (Date.now() - killedAt < 3 * INTERVAL_MS) {
        try {
          const who = await apiGet(vip, ca);
          answers.push(Date.now() - killedAt);
          expect(who).not.toBe(masters[0].ip);
        } catch (e) {
          failures.push(`${Date.now() - killedAt} ms: ${String(e)}`);
        }
      }
      console.info(
        `local masters: the VIP answered ${answers[0]} ms after master-0's VM was killed; ${failures.length} failed requests`,
      );
      expect(answers[0], 'the VIP answers within the health-check interval').toBeLessThan(INTERVAL_MS + 500);
      expect(failures, 'no request through the VIP failed').toEqual([]);
    }, 400_000);
  },
);
