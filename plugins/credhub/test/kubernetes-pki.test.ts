import { execFileSync } from 'node:child_process';
import { createPrivateKey, createPublicKey, sign, verify, X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Credential, RsaValue } from '@slipway/contracts';
import {
  issueKubernetesPki,
  issueKubernetesUserCertificate,
  kubernetesPkiLayout,
  removeKubernetesNodeCredentials,
} from '@slipway/pki/kubernetes';
import { engine, openStore, tempDir } from './helpers.js';

const PATH = '/slipway/clusters/3f0c8c52-1111-4a4a-9b9b-5c5c5c5c5c5c';
const masters = [
  { name: 'master-0', ip: '10.0.0.10' },
  { name: 'master-1', ip: '10.0.0.11' },
  { name: 'master-2', ip: '10.0.0.12' },
];
const workers = [
  { name: 'worker-0', ip: '10.0.1.20' },
  { name: 'worker-1', ip: '10.0.1.21' },
];
const input = { path: PATH, externalHostname: 'demo.example.test', masters, workers, serviceClusterIp: '10.100.200.1' };

function files() {
  const dir = tempDir('k8s-pki-');
  let n = 0;
  return (pem: string) => {
    const f = join(dir, `${n++}.pem`);
    writeFileSync(f, pem);
    return f;
  };
}
const openssl = (...args: string[]) =>
  execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

describe('Kubernetes cluster PKI', () => {
  it('issues every certificate a cluster needs; openssl verifies each chain for the purpose Kubernetes uses it', async () => {
    const { provider } = await openStore();
    const names = await issueKubernetesPki(provider, engine, input);
    expect(names).toHaveLength(4 + 10 + masters.length * 4 + workers.length * 2);
    const file = files();
    const get = async (name: string) => (await provider.get(`${PATH}/${name}`, engine)) as Credential<'certificate'>;
    const ca = {
      kubernetes: await get('kubernetes-ca'),
      etcd: await get('etcd-ca'),
      frontProxy: await get('front-proxy-ca'),
    };
    const expected: Array<{
      name: string;
      ca: keyof typeof ca;
      purpose: 'sslserver' | 'sslclient';
      subject: RegExp;
      key: 'rsa' | 'ec';
    }> = [
      { name: 'kube-apiserver', ca: 'kubernetes', purpose: 'sslserver', subject: /CN\s*=\s*kube-apiserver/, key: 'ec' },
      {
        name: 'admin',
        ca: 'kubernetes',
        purpose: 'sslclient',
        subject: /O\s*=\s*system:masters, CN\s*=\s*admin/,
        key: 'ec',
      },
      {
        name: 'kube-apiserver-kubelet-client',
        ca: 'kubernetes',
        purpose: 'sslclient',
        subject: /O\s*=\s*system:masters, CN\s*=\s*kube-apiserver-kubelet-client/,
        key: 'ec',
      },
      {
        name: 'kube-apiserver-etcd-client',
        ca: 'etcd',
        purpose: 'sslclient',
        subject: /CN\s*=\s*kube-apiserver-etcd-client/,
        key: 'ec',
      },
      { name: 'etcd-client', ca: 'etcd', purpose: 'sslclient', subject: /CN\s*=\s*etcd-client/, key: 'ec' },
      {
        name: 'front-proxy-client',
        ca: 'frontProxy',
        purpose: 'sslclient',
        subject: /CN\s*=\s*front-proxy-client/,
        key: 'ec',
      },
      {
        name: 'kube-controller-manager',
        ca: 'kubernetes',
        purpose: 'sslclient',
        subject: /CN\s*=\s*system:kube-controller-manager/,
        key: 'ec',
      },
      {
        name: 'kube-scheduler',
        ca: 'kubernetes',
        purpose: 'sslclient',
        subject: /CN\s*=\s*system:kube-scheduler/,
        key: 'ec',
      },
      { name: 'kube-proxy', ca: 'kubernetes', purpose: 'sslclient', subject: /CN\s*=\s*system:kube-proxy/, key: 'ec' },
      ...masters.flatMap((m) => [
        {
          name: `nodes/${m.name}/etcd-server`,
          ca: 'etcd' as const,
          purpose: 'sslserver' as const,
          subject: new RegExp(`CN\\s*=\\s*${m.name}`),
          key: 'ec' as const,
        },
        {
          name: `nodes/${m.name}/etcd-server`,
          ca: 'etcd' as const,
          purpose: 'sslclient' as const,
          subject: /./,
          key: 'ec' as const,
        },
        {
          name: `nodes/${m.name}/etcd-peer`,
          ca: 'etcd' as const,
          purpose: 'sslserver' as const,
          subject: new RegExp(`CN\\s*=\\s*${m.name}`),
          key: 'ec' as const,
        },
        {
          name: `nodes/${m.name}/etcd-peer`,
          ca: 'etcd' as const,
          purpose: 'sslclient' as const,
          subject: /./,
          key: 'ec' as const,
        },
      ]),
      ...[...masters, ...workers].flatMap((n) => [
        {
          name: `nodes/${n.name}/kubelet`,
          ca: 'kubernetes' as const,
          purpose: 'sslserver' as const,
          subject: new RegExp(`O\\s*=\\s*system:nodes, CN\\s*=\\s*system:node:${n.name}`),
          key: 'ec' as const,
        },
        {
          name: `nodes/${n.name}/kubelet-client`,
          ca: 'kubernetes' as const,
          purpose: 'sslclient' as const,
          subject: new RegExp(`O\\s*=\\s*system:nodes, CN\\s*=\\s*system:node:${n.name}`),
          key: 'ec' as const,
        },
      ]),
    ];
    for (const entry of expected) {
      const leaf = await get(entry.name);
      const caFile = file(ca[entry.ca].value.certificate);
      expect(
        openssl('verify', '-CAfile', caFile, '-purpose', entry.purpose, file(leaf.value.certificate)),
        entry.name,
      ).toMatch(/: OK\n$/);
      expect(
        new X509Certificate(leaf.value.certificate).subject.replace(/\n/g, ', ').replace(/=/g, ' = '),
        entry.name,
      ).toMatch(entry.subject);
      expect(createPrivateKey(leaf.value.private_key).asymmetricKeyType, entry.name).toBe(entry.key);
      expect(leaf.value.ca).toBe(ca[entry.ca].value.certificate);
    }
    // A server certificate is not a client certificate, and the other way round.
    const apiFile = file((await get('kube-apiserver')).value.certificate);
    const adminFile = file((await get('admin')).value.certificate);
    const etcdClientFile = file((await get('kube-apiserver-etcd-client')).value.certificate);
    const kubernetesCaFile = file(ca.kubernetes.value.certificate);
    expect(() => openssl('verify', '-CAfile', kubernetesCaFile, '-purpose', 'sslclient', apiFile)).toThrow();
    expect(() => openssl('verify', '-CAfile', kubernetesCaFile, '-purpose', 'sslserver', adminFile)).toThrow();
    // An etcd certificate does not verify against the Kubernetes CA.
    expect(() => openssl('verify', '-CAfile', kubernetesCaFile, etcdClientFile)).toThrow();

    const api = new X509Certificate((await get('kube-apiserver')).value.certificate);
    expect(api.subjectAltName?.split(', ')).toEqual([
      'DNS:demo.example.test',
      'IP Address:10.0.0.10',
      'IP Address:10.0.0.11',
      'IP Address:10.0.0.12',
      'IP Address:10.100.200.1',
      'DNS:kubernetes',
      'DNS:kubernetes.default',
      'DNS:kubernetes.default.svc',
      'DNS:kubernetes.default.svc.cluster.local',
      'DNS:localhost',
      'IP Address:127.0.0.1',
    ]);
    expect(new X509Certificate((await get('nodes/master-1/etcd-server')).value.certificate).subjectAltName).toBe(
      'DNS:master-1, IP Address:10.0.0.11, DNS:localhost, IP Address:127.0.0.1',
    );
    expect(new X509Certificate((await get('nodes/worker-1/kubelet')).value.certificate).subjectAltName).toBe(
      'DNS:worker-1, IP Address:10.0.1.21',
    );
    for (const c of Object.values(ca)) {
      expect(openssl('x509', '-noout', '-text', '-in', file(c.value.certificate))).toMatch(
        /CA:TRUE[\s\S]*Certificate Sign, CRL Sign/,
      );
    }
    for (const c of Object.values(ca)) expect(createPrivateKey(c.value.private_key).asymmetricKeyType).toBe('ec');

    // The service-account key signs tokens (RS256) that its public half verifies.
    const sa = (await provider.get(`${PATH}/service-account`, engine)).value as RsaValue;
    const token = Buffer.from('header.payload');
    expect(
      verify('sha256', token, createPublicKey(sa.public_key), sign('sha256', token, createPrivateKey(sa.private_key))),
    ).toBe(true);

    // get-credentials: CN = user, O = group, a key like the CA's, client auth, signed by the cluster CA.
    const user = await issueKubernetesUserCertificate(provider, engine, PATH, 'alice', ['developers']);
    expect(new X509Certificate(user.value.certificate).subject).toBe('O=developers\nCN=alice');
    expect(createPrivateKey(user.value.private_key).asymmetricKeyType).toBe('ec');
    expect(
      openssl(
        'verify',
        '-CAfile',
        file(ca.kubernetes.value.certificate),
        '-purpose',
        'sslclient',
        file(user.value.certificate),
      ),
    ).toContain('OK');
  }, 60_000);

  it('converges: a re-run reissues nothing, a new worker gets only its own certificates, a departed one loses them', async () => {
    const { provider } = await openStore();
    await issueKubernetesPki(provider, engine, input);
    const before = await provider.auditEvents({ operation: 'generate', limit: 1000 }, engine);
    const names = await issueKubernetesPki(provider, engine, {
      ...input,
      workers: [...workers, { name: 'worker-2', ip: '10.0.1.22' }],
    });
    const after = (await provider.auditEvents({ operation: 'generate', limit: 1000 }, engine)).slice(0, names.length);
    expect(
      after
        .filter((e) => e.result === 'success')
        .map((e) => e.name)
        .sort(),
    ).toEqual([`${PATH}/nodes/worker-2/kubelet`, `${PATH}/nodes/worker-2/kubelet-client`]);
    expect(after.filter((e) => e.result === 'unchanged')).toHaveLength(names.length - 2);
    expect(before.every((e) => e.result === 'success')).toBe(true);
    // Old callers: masterIps alone still work, nodes named master-N.
    const layout = kubernetesPkiLayout({ path: PATH, externalHostname: 'h', masterIps: ['10.0.0.10'] })
      .flat()
      .map((e) => e.name);
    expect(layout).toContain('nodes/master-0/etcd-server');
    expect(await removeKubernetesNodeCredentials(provider, engine, PATH, 'worker-2')).toHaveLength(4);
    await expect(provider.get(`${PATH}/nodes/worker-2/kubelet`, engine)).rejects.toMatchObject({ code: 'NotFound' });
    expect(() => kubernetesPkiLayout({ ...input, workers: [{ name: 'Worker_0', ip: '10.0.0.1' }] })).toThrow(
      /not a DNS subdomain/,
    );
  }, 60_000);

  it('lists the public half of every certificate in use under the cluster path in one audited call, no key opened', async () => {
    const { provider } = await openStore();
    const names = await issueKubernetesPki(provider, engine, input);
    const before = (await provider.auditEvents({ limit: 1000 }, engine)).length;
    const facts = await provider.certificateFacts({ path: PATH }, engine);
    expect(facts.map((f) => f.name).sort()).toEqual(names.filter((n) => !n.endsWith('/service-account')).sort());
    expect(JSON.stringify(facts)).not.toContain('PRIVATE KEY');
    expect(facts.find((f) => f.name === `${PATH}/kube-apiserver`)).toMatchObject({
      ca_name: `${PATH}/kubernetes-ca`,
      transitional: false,
    });
    expect((await provider.auditEvents({ limit: 1000 }, engine)).length).toBe(before + 1);
    // In a CA rotation the transitional version is listed beside the signing one.
    await provider.regenerate(`${PATH}/etcd-ca`, engine, { transitional: true });
    const etcd = (await provider.certificateFacts({ path: PATH }, engine)).filter((f) => f.name === `${PATH}/etcd-ca`);
    expect(etcd.map((f) => f.transitional).sort()).toEqual([false, true]);
  }, 60_000);

  it('keeps a cluster created with the RSA layout on RSA: converging it reissues nothing, and its users get RSA certificates', async () => {
    const { provider } = await openStore();
    // What Slipway issued before the ECDSA layout: an RSA Kubernetes CA, API server and admin certificates.
    await issueKubernetesPki(provider, engine, { ...input, clientKeys: 'rsa' });
    const rsa = async (name: string) =>
      createPrivateKey(((await provider.get(`${PATH}/${name}`, engine)) as Credential<'certificate'>).value.private_key)
        .asymmetricKeyType;
    expect([await rsa('kubernetes-ca'), await rsa('kube-apiserver'), await rsa('admin')]).toEqual([
      'rsa',
      'rsa',
      'rsa',
    ]);
    // The engine converges without saying which layout: the CA's own key decides.
    const names = await issueKubernetesPki(provider, engine, input);
    const events = (await provider.auditEvents({ operation: 'generate', limit: 1000 }, engine)).slice(0, names.length);
    expect(events).toHaveLength(names.length);
    expect(events.filter((e) => e.result !== 'unchanged').map((e) => e.name)).toEqual([]);
    const user = await issueKubernetesUserCertificate(provider, engine, PATH, 'bob');
    expect(createPrivateKey(user.value.private_key).asymmetricKeyType).toBe('rsa');
  }, 60_000);
});
