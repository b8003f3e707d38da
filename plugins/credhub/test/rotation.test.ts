import { X509Certificate } from 'node:crypto';
import { createServer, request } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { describe, expect, it } from 'vitest';
import type { CertificateValue, CredentialProvider } from '@slipway/contracts';
import { splitPemCertificates } from '@slipway/pki';
import {
  issueKubernetesPki,
  kubernetesTrustBundle,
  rotateKubernetesCa,
  rotateKubernetesLeaves,
} from '@slipway/pki/kubernetes';
import { engine, onCleanup, openStore } from './helpers.js';

const PATH = '/slipway/clusters/rotation';
const input = {
  path: PATH,
  externalHostname: 'rotate.example.test',
  masters: [{ name: 'master-0', ip: '127.0.0.1' }],
  workers: [{ name: 'worker-0', ip: '10.0.1.20' }],
};

const cert = async (provider: CredentialProvider, name: string) =>
  (await provider.get(`${PATH}/${name}`, engine)).value as CertificateValue;

/**
 * A stand-in for kube-apiserver as deployed in a phase: serving with the API server certificate it has,
 * trusting `clientCa` for client certificates (its --client-ca-file). Answers with the client's CN.
 */
async function apiServer(serving: CertificateValue, clientCa: string): Promise<number> {
  const server = createServer(
    { cert: serving.certificate, key: serving.private_key, ca: clientCa, requestCert: true, rejectUnauthorized: true },
    (req, res) => {
      res.end((req.socket as TLSSocket).getPeerCertificate().subject.CN);
    },
  );
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  onCleanup(
    () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  );
  return (server.address() as AddressInfo).port;
}

/** What a kubectl with this client certificate and CA bundle gets: the CN the server saw, or the TLS error. */
function kubectl(port: number, client: CertificateValue, serverCa: string): Promise<string> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/',
        ca: serverCa,
        cert: client.certificate,
        key: client.private_key,
        agent: false,
      },
      (res) => {
        let body = '';
        res.on('data', (d) => {
          body += d;
        });
        res.on('end', () => resolve(`accepted as ${body}`));
      },
    );
    req.on('error', (e) => resolve(`refused: ${(e as NodeJS.ErrnoException).code ?? e.message}`));
    req.end();
  });
}

describe('certificate rotation without downtime', () => {
  it('rotates the cluster CA in three phases: a client certificate from before is accepted through phases 1 and 2, refused after 3', async () => {
    const { provider } = await openStore();
    await issueKubernetesPki(provider, engine, input);
    const oldCa = await cert(provider, 'kubernetes-ca');
    const oldAdmin = await cert(provider, 'admin');
    const oldApi = await cert(provider, 'kube-apiserver');
    expect(await kubernetesTrustBundle(provider, engine, PATH)).toBe(oldCa.certificate);

    // Phase 1: the new CA is trusted beside the old; nothing is reissued yet.
    const phase1 = await rotateKubernetesCa(provider, engine, PATH, 'add-new-ca');
    const bundle1 = phase1.bundles['kubernetes-ca']!;
    const newCaPem = splitPemCertificates(bundle1)[1];
    expect(splitPemCertificates(bundle1)).toEqual([oldCa.certificate, newCaPem]);
    expect(phase1.regenerated).toEqual([]);
    expect((await cert(provider, 'admin')).certificate).toBe(oldAdmin.certificate);
    expect(await kubernetesTrustBundle(provider, engine, PATH)).toBe(bundle1);
    expect(phase1.bundles['etcd-ca']!.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
    // Idempotent: a resumed task running phase 1 again changes nothing.
    expect((await rotateKubernetesCa(provider, engine, PATH, 'add-new-ca')).cas).toEqual(phase1.cas);
    await expect(rotateKubernetesCa(provider, engine, PATH, 'remove-old-ca')).rejects.toMatchObject({
      code: 'Conflict',
    });
    const port1 = await apiServer(oldApi, bundle1);
    expect(await kubectl(port1, oldAdmin, bundle1)).toBe('accepted as admin');

    // Phase 2: the new CA signs; every leaf is reissued by it; both stay trusted.
    const phase2 = await rotateKubernetesCa(provider, engine, PATH, 'reissue-leaves');
    expect(phase2.regenerated).toEqual(
      expect.arrayContaining([
        `${PATH}/admin`,
        `${PATH}/kube-apiserver`,
        `${PATH}/nodes/worker-0/kubelet`,
        `${PATH}/kube-apiserver-etcd-client`,
        `${PATH}/front-proxy-client`,
      ]),
    );
    expect(phase2.regenerated).toHaveLength(16);
    const bundle2 = phase2.bundles['kubernetes-ca']!;
    expect(splitPemCertificates(bundle2)).toEqual([newCaPem, oldCa.certificate]);
    const newAdmin = await cert(provider, 'admin');
    const newApi = await cert(provider, 'kube-apiserver');
    expect(new X509Certificate(newAdmin.certificate).verify(new X509Certificate(newCaPem).publicKey)).toBe(true);
    expect(newAdmin.ca).toBe(bundle2);
    expect((await rotateKubernetesCa(provider, engine, PATH, 'reissue-leaves')).regenerated).toEqual([]);
    const port2 = await apiServer(newApi, bundle2);
    expect(await kubectl(port2, oldAdmin, bundle2)).toBe('accepted as admin');
    expect(await kubectl(port2, newAdmin, bundle2)).toBe('accepted as admin');
    // A client still holding only the old CA reaches the server reissued in phase 2 only through the bundle it was given in phase 1.
    expect(await kubectl(port2, oldAdmin, oldCa.certificate)).toMatch(/^refused/);
    expect(await kubectl(port2, oldAdmin, bundle1)).toBe('accepted as admin');

    // Phase 3: the old CA is no longer trusted.
    const phase3 = await rotateKubernetesCa(provider, engine, PATH, 'remove-old-ca');
    const bundle3 = phase3.bundles['kubernetes-ca']!;
    expect(bundle3).toBe(newCaPem);
    expect(phase3.cas.every((c) => c.transitional === null)).toBe(true);
    const port3 = await apiServer(newApi, bundle3);
    expect(await kubectl(port3, oldAdmin, bundle3)).toMatch(/^refused/);
    expect(await kubectl(port3, newAdmin, bundle3)).toBe('accepted as admin');
    expect((await cert(provider, 'admin')).ca).toBe(newCaPem);
    await expect(rotateKubernetesCa(provider, engine, PATH, 'reissue-leaves')).rejects.toThrow(
      /no transitional version/,
    );
    // A second rotation can start.
    expect(
      (await rotateKubernetesCa(provider, engine, PATH, 'add-new-ca', { cas: ['front-proxy-ca'] })).cas[0].transitional,
    ).not.toBeNull();
  }, 60_000);

  it('reissues every leaf and keeps the CAs in a leaf-only rotation', async () => {
    const { provider } = await openStore();
    await issueKubernetesPki(provider, engine, input);
    const ca = await cert(provider, 'kubernetes-ca');
    const before = await cert(provider, 'nodes/worker-0/kubelet-client');
    const names = await rotateKubernetesLeaves(provider, engine, PATH);
    expect(names).toHaveLength(16);
    const after = await cert(provider, 'nodes/worker-0/kubelet-client');
    expect(new X509Certificate(after.certificate).serialNumber).not.toBe(
      new X509Certificate(before.certificate).serialNumber,
    );
    expect((await cert(provider, 'kubernetes-ca')).certificate).toBe(ca.certificate);
    const port = await apiServer(await cert(provider, 'kube-apiserver'), ca.certificate);
    // Same CA: the old leaf is still valid until it expires; the new one works too.
    expect(await kubectl(port, before, ca.certificate)).toBe('accepted as system:node:worker-0');
    expect(await kubectl(port, after, ca.certificate)).toBe('accepted as system:node:worker-0');
  }, 60_000);
});
