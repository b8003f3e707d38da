import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { CertificateValue } from '@slipway/contracts';
import { issueKubernetesPki, kubernetesTrustBundle } from '@slipway/pki/kubernetes';
import { engine, onCleanup, openStore, tempDir } from './helpers.js';

const ETCD = '/usr/bin/etcd';
const ETCDCTL = '/usr/bin/etcdctl';
const installed = existsSync(ETCD) && existsSync(ETCDCTL);
const run = promisify(execFile);

if (!installed)
  console.warn(
    `etcd test skipped: ${ETCD} or ${ETCDCTL} is not installed (Debian: apt-get install etcd-server etcd-client)`,
  );

/** A free port on 127.0.0.1, chosen by the OS. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as { port: number };
  await new Promise((ok) => server.close(ok));
  return port;
}

describe.skipIf(!installed)(
  `issued etcd certificates on a real etcd${installed ? '' : ' (skipped: etcd and etcdctl are not installed; apt-get install etcd-server etcd-client)'}`,
  () => {
    it('run a three-member TLS cluster on loopback; etcdctl writes and reads a key with the client certificate', async () => {
      const { provider } = await openStore();
      const path = '/slipway/clusters/etcd-test';
      const members = [0, 1, 2].map((i) => ({ name: `master-${i}`, ip: '127.0.0.1' }));
      await issueKubernetesPki(provider, engine, { path, externalHostname: 'etcd.example.test', masters: members });
      const dir = tempDir('etcd-');
      const write = (name: string, pem: string) => {
        const f = join(dir, name);
        writeFileSync(f, pem, { mode: 0o600 });
        return f;
      };
      const ca = write('etcd-ca.pem', await kubernetesTrustBundle(provider, engine, path, 'etcd-ca'));
      const ports = await Promise.all(members.map(async () => ({ client: await freePort(), peer: await freePort() })));
      const initialCluster = members.map((m, i) => `${m.name}=https://127.0.0.1:${ports[i].peer}`).join(',');

      const processes: ChildProcess[] = [];
      const logs: string[] = [];
      onCleanup(async () => {
        // The data is thrown away with the temp dir, so there is nothing to shut down gracefully for.
        for (const p of processes) p.kill('SIGKILL');
        await Promise.all(
          processes.map((p) =>
            p.exitCode === null && p.signalCode === null ? new Promise((ok) => p.once('exit', ok)) : undefined,
          ),
        );
      });
      for (const [i, member] of members.entries()) {
        const server = (await provider.get(`${path}/nodes/${member.name}/etcd-server`, engine))
          .value as CertificateValue;
        const peer = (await provider.get(`${path}/nodes/${member.name}/etcd-peer`, engine)).value as CertificateValue;
        const data = join(dir, member.name);
        mkdirSync(data, { mode: 0o700 });
        const child = spawn(
          ETCD,
          [
            '--name',
            member.name,
            '--data-dir',
            data,
            '--listen-client-urls',
            `https://127.0.0.1:${ports[i].client}`,
            '--advertise-client-urls',
            `https://127.0.0.1:${ports[i].client}`,
            '--listen-peer-urls',
            `https://127.0.0.1:${ports[i].peer}`,
            '--initial-advertise-peer-urls',
            `https://127.0.0.1:${ports[i].peer}`,
            '--initial-cluster',
            initialCluster,
            '--initial-cluster-state',
            'new',
            '--initial-cluster-token',
            'slipway-test',
            '--cert-file',
            write(`${member.name}-server.pem`, server.certificate),
            '--key-file',
            write(`${member.name}-server-key.pem`, server.private_key),
            '--trusted-ca-file',
            ca,
            '--client-cert-auth',
            '--peer-cert-file',
            write(`${member.name}-peer.pem`, peer.certificate),
            '--peer-key-file',
            write(`${member.name}-peer-key.pem`, peer.private_key),
            '--peer-trusted-ca-file',
            ca,
            '--peer-client-cert-auth',
            '--listen-metrics-urls',
            `http://127.0.0.1:${await freePort()}`,
          ],
          { stdio: ['ignore', 'pipe', 'pipe'] },
        );
        child.stderr!.on('data', (d: Buffer) => logs.push(`${member.name}: ${d}`));
        child.stdout!.on('data', (d: Buffer) => logs.push(`${member.name}: ${d}`));
        processes.push(child);
      }

      const client = (await provider.get(`${path}/kube-apiserver-etcd-client`, engine)).value as CertificateValue;
      const tls = [
        '--cacert',
        ca,
        '--cert',
        write('client.pem', client.certificate),
        '--key',
        write('client-key.pem', client.private_key),
      ];
      const endpoints = ports.map((p) => `https://127.0.0.1:${p.client}`).join(',');
      const etcdctl = (...args: string[]) =>
        run(ETCDCTL, ['--endpoints', endpoints, ...tls, '--command-timeout=5s', ...args], {
          env: { ...process.env, ETCDCTL_API: '3' },
        });

      const deadline = Date.now() + 30_000;
      for (;;) {
        const health = await etcdctl('endpoint', 'health', '--cluster').then(
          (r) => r.stdout + r.stderr,
          (e) => String(e.stdout ?? '') + String(e.stderr ?? ''),
        );
        if ((health.match(/is healthy/g) ?? []).length === 3) break;
        if (Date.now() > deadline)
          throw new Error(`etcd did not become healthy: ${health}\n${logs.slice(-20).join('')}`);
        await new Promise((r) => setTimeout(r, 250));
      }
      const list = await etcdctl('member', 'list', '-w', 'simple');
      expect(list.stdout.trim().split('\n')).toHaveLength(3);
      expect(list.stdout).toContain('started, master-0');

      await etcdctl('put', '/registry/slipway/test', 'issued-by-credhub');
      // Read from each member in turn: replication went over the peer certificates.
      for (const p of ports) {
        const got = await run(
          ETCDCTL,
          [
            '--endpoints',
            `https://127.0.0.1:${p.client}`,
            ...tls,
            'get',
            '/registry/slipway/test',
            '--print-value-only',
          ],
          { env: { ...process.env, ETCDCTL_API: '3' } },
        );
        expect(got.stdout.trim()).toBe('issued-by-credhub');
      }
      // Without a client certificate the cluster refuses the client.
      const anonymous = await run(
        ETCDCTL,
        [
          '--endpoints',
          `https://127.0.0.1:${ports[0].client}`,
          '--cacert',
          ca,
          '--dial-timeout=1s',
          '--command-timeout=1s',
          'get',
          '/registry/slipway/test',
        ],
        { env: { ...process.env, ETCDCTL_API: '3' } },
      ).then(
        () => 'accepted',
        (e) => String(e.stderr),
      );
      expect(anonymous).not.toBe('accepted');
    }, 60_000);
  },
);
