import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import credhub from '@slipway/credentials-credhub';
import type { CredentialProvider, JobProperties, PluginHost } from '@slipway/contracts';
// The engine's builder of what it sends agents. Imported by path until @slipway/engine's index exports it.
import { buildJobProperties, JOBS_BY_GROUP } from '@slipway/engine';
import { agentPaths, KubernetesJobCatalog, type JobPlan } from '../src/index.js';
import { parseCorefile, type CorefileDirective } from './corefile-grammar.js';

const run = promisify(execFile);
const quiet = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return quiet;
  },
};
const ctx = { actor: 'slipway:engine' };

const cluster = {
  uuid: '8d3c5a8e-0000-4000-8000-00000000c105',
  name: 'render',
  k8s_version: '1.31.4',
  external_hostname: 'render.example.test',
  api_address: null,
};
const instances = [
  ...[0, 1, 2].map((idx) => ({
    id: `m${idx}`,
    group_name: 'master' as const,
    idx,
    ip: `10.0.0.${10 + idx}`,
    desired: 'present',
  })),
  ...[0, 1].map((idx) => ({
    id: `w${idx}`,
    group_name: 'worker' as const,
    idx,
    ip: `10.0.1.${10 + idx}`,
    desired: 'present',
  })),
];

/** Which CA must have signed each certificate role, and what it is for. */
const SIGNER: Record<string, { ca: string; purpose: 'sslserver' | 'sslclient' }> = {
  'etcd-server': { ca: 'etcd-ca', purpose: 'sslserver' },
  'etcd-peer': { ca: 'etcd-ca', purpose: 'sslclient' },
  'etcd-client': { ca: 'etcd-ca', purpose: 'sslclient' },
  'kube-apiserver-etcd-client': { ca: 'etcd-ca', purpose: 'sslclient' },
  'kube-apiserver': { ca: 'kubernetes-ca', purpose: 'sslserver' },
  'kube-apiserver-kubelet-client': { ca: 'kubernetes-ca', purpose: 'sslclient' },
  'front-proxy-client': { ca: 'front-proxy-ca', purpose: 'sslclient' },
  'kube-controller-manager': { ca: 'kubernetes-ca', purpose: 'sslclient' },
  'kube-scheduler': { ca: 'kubernetes-ca', purpose: 'sslclient' },
  admin: { ca: 'kubernetes-ca', purpose: 'sslclient' },
  kubelet: { ca: 'kubernetes-ca', purpose: 'sslserver' },
  'kubelet-client': { ca: 'kubernetes-ca', purpose: 'sslclient' },
  'kube-proxy': { ca: 'kubernetes-ca', purpose: 'sslclient' },
};

/**
 * Renders every job of a 3-master, 2-worker cluster from the properties the control plane builds (the
 * engine's builder over a real credential provider) and checks what a kubelet or etcd would: every file a
 * flag, a config or a kubeconfig names exists, every certificate verifies against the CA it must chain to
 * (openssl verify, with the right purpose), serving certificates carry the node's address, keys match
 * their certificates and are 0600 in 0700 directories.
 */
describe('Kubernetes jobs rendered for a 3-master cluster', () => {
  let provider: CredentialProvider;
  let dataDir: string;
  let root: string;
  const plans = new Map<
    string,
    { node: string; job: string; plan: JobPlan; properties: JobProperties; root: string }
  >();

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'render-credhub-'));
    root = mkdtempSync(join(tmpdir(), 'render-nodes-'));
    const host: PluginHost = {
      logger: quiet,
      clock: { now: Date.now, sleep: async () => {} },
      dataDir,
      instanceName: 'default',
    };
    provider = await credhub.create({}, host);
    for (const instance of instances) {
      const properties = await buildJobProperties(provider, ctx, { cluster, instances, instance, apiPort: 8443 });
      const nodeRoot = join(root, properties.node!.name);
      // No binaries anywhere: every job renders, every process is reported unavailable.
      const catalog = new KubernetesJobCatalog({ paths: agentPaths(nodeRoot), path: '' });
      for (const job of JOBS_BY_GROUP[instance.group_name]) {
        const plan = await catalog.plan(job, {
          settings: {} as never,
          properties,
          signal: new AbortController().signal,
        });
        plans.set(`${properties.node!.name}/${job.name}`, {
          node: properties.node!.name,
          job: job.name,
          plan,
          properties,
          root: nodeRoot,
        });
      }
    }
  }, 120_000);

  afterAll(async () => {
    await provider?.destroy();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(root, { recursive: true, force: true });
  });

  it('renders every job of every node', () => {
    expect([...plans.keys()].sort()).toEqual(
      [
        ...['master-0', 'master-1', 'master-2'].flatMap((n) => JOBS_BY_GROUP.master.map((j) => `${n}/${j.name}`)),
        ...['worker-0', 'worker-1'].flatMap((n) => JOBS_BY_GROUP.worker.map((j) => `${n}/${j.name}`)),
      ].sort(),
    );
  });

  it('reports a job whose binary is missing as unavailable, saying where it looked', () => {
    const etcd = plans.get('master-0/etcd')!.plan;
    expect(etcd.processes[0]!.unavailable).toMatch(
      /^binary etcd \(etcd 3\.5\.15\) not found in .*packages\/etcd\/3\.5\.15\/bin/,
    );
    expect(plans.get('worker-0/cni')!.plan.unavailable).toMatch(/binary bridge .* not found/);
  });

  it('gives etcd the member list and TLS for clients and peers', () => {
    const args = plans.get('master-1/etcd')!.plan.processes[0]!.args;
    expect(args).toContain('--name=master-1');
    expect(args).toContain(
      '--initial-cluster=master-0=https://10.0.0.10:2380,master-1=https://10.0.0.11:2380,master-2=https://10.0.0.12:2380',
    );
    expect(args).toContain('--listen-client-urls=https://10.0.0.11:2379');
    expect(args).toContain('--client-cert-auth=true');
    expect(args).toContain('--peer-client-cert-auth=true');
    expect(
      args.some((a) => a.includes('skip-client-san')),
      'on a real network the peer SAN check stays on',
    ).toBe(false);
    expect(plans.get('master-0/kube-apiserver')!.plan.processes[0]!.args).toContain(
      '--etcd-servers=https://10.0.0.10:2379,https://10.0.0.11:2379,https://10.0.0.12:2379',
    );
  });

  it('every referenced certificate exists and verifies against its CA; keys match and are private', async () => {
    let verified = 0;
    for (const { plan, node, root: nodeRoot } of plans.values()) {
      const files = referencedFiles(plan);
      for (const file of files) expect(existsSync(file), `${node}: ${file} exists`).toBe(true);
      for (const file of files.filter((f) => f.endsWith('.pem') && !f.endsWith('-key.pem') && !f.endsWith('-ca.pem'))) {
        const role = file
          .split('/')
          .pop()!
          .replace(/\.pem$/, '');
        const signer = SIGNER[role];
        if (!signer) {
          // A CA certificate: it verifies against itself.
          expect(role, `${file} is a CA file`).toMatch(/-ca$/);
          await run('openssl', ['verify', '-CAfile', file, file]);
          continue;
        }
        const caFile = findCa(nodeRoot, signer.ca);
        const { stdout } = await run('openssl', ['verify', '-purpose', signer.purpose, '-CAfile', caFile, file]);
        expect(stdout.trim()).toBe(`${file}: OK`);
        const key = file.replace(/\.pem$/, '-key.pem');
        expect(statSync(key).mode & 0o777, `${key} is 0600`).toBe(0o600);
        expect(statSync(dirname(key)).mode & 0o777, `${dirname(key)} is 0700`).toBe(0o700);
        const [certKey, privateKey] = await Promise.all([
          run('openssl', ['x509', '-noout', '-pubkey', '-in', file]),
          run('openssl', ['pkey', '-pubout', '-in', key]),
        ]);
        expect(certKey.stdout, `${key} belongs to ${file}`).toBe(privateKey.stdout);
        verified++;
      }
    }
    // Each master: 3 etcd roles + 6 control-plane roles + the 3 node roles + the admin its kubelet job marks
    // the node with; the first master also the admin of CoreDNS; each worker the 3 node roles.
    expect(verified).toBe(3 * (9 + 3 + 1) + 1 + 2 * 3);
  }, 120_000);

  it('serving certificates carry the address clients dial', async () => {
    for (const node of ['master-0', 'master-1', 'master-2']) {
      const ip = `10.0.0.${10 + Number(node.at(-1))}`;
      const etcd = join(root, node, 'var/lib/slipway/jobs/etcd/tls/etcd-server.pem');
      expect((await run('openssl', ['x509', '-noout', '-checkip', ip, '-in', etcd])).stdout).toMatch(/does match/);
      const api = join(root, node, 'var/lib/slipway/jobs/kube-apiserver/tls/kube-apiserver.pem');
      expect((await run('openssl', ['x509', '-noout', '-checkip', ip, '-in', api])).stdout).toMatch(/does match/);
      expect(
        (await run('openssl', ['x509', '-noout', '-checkhost', 'render.example.test', '-in', api])).stdout,
      ).toMatch(/does match/);
    }
    const kubelet = join(root, 'worker-1', 'var/lib/slipway/jobs/kubelet/tls/kubelet.pem');
    expect((await run('openssl', ['x509', '-noout', '-checkip', '10.0.1.11', '-in', kubelet])).stdout).toMatch(
      /does match/,
    );
    const client = join(root, 'worker-1', 'var/lib/slipway/jobs/kubelet/tls/kubelet-client.pem');
    expect(
      (await run('openssl', ['x509', '-noout', '-subject', '-nameopt', 'RFC2253', '-in', client])).stdout,
    ).toContain('CN=system:node:worker-1,O=system:nodes');
  });

  it('makes masters nodes: kubelet, containerd, kube-proxy and the CNI, registered tainted and labelled control-plane', async () => {
    for (const job of ['containerd', 'cni', 'kubelet', 'kube-proxy'])
      expect(plans.has(`master-1/${job}`), job).toBe(true);
    const masterKubelet = JSON.parse(
      readFileSync(join(root, 'master-1/var/lib/slipway/jobs/kubelet/config.yaml'), 'utf8'),
    ) as { registerWithTaints?: unknown };
    expect(masterKubelet.registerWithTaints).toEqual([
      { key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' },
    ]);
    const workerKubelet = JSON.parse(
      readFileSync(join(root, 'worker-1/var/lib/slipway/jobs/kubelet/config.yaml'), 'utf8'),
    ) as { registerWithTaints?: unknown };
    expect(workerKubelet.registerWithTaints, 'workers take workloads').toBeUndefined();
    // The kubelet may not label itself node-role.kubernetes.io/*: the label comes from the admin identity once the node registered.
    const kubelet = plans.get('master-1/kubelet')!.plan;
    expect(kubelet.processes[0]!.args.some((a) => a.startsWith('--node-labels'))).toBe(false);
    const mark = kubelet.hooks?.find((h) => h.name === 'mark-control-plane');
    expect(mark?.args.slice(1)).toEqual([
      'label',
      'node',
      'master-1',
      'node-role.kubernetes.io/control-plane=',
      'node.kubernetes.io/exclude-from-external-load-balancers=',
      '--overwrite',
    ]);
    const adminConfig = JSON.parse(readFileSync(mark!.args[0]!.replace('--kubeconfig=', ''), 'utf8')) as {
      users: Array<{ user: { 'client-certificate': string } }>;
    };
    expect(
      (
        await run('openssl', [
          'x509',
          '-noout',
          '-subject',
          '-nameopt',
          'RFC2253',
          '-in',
          adminConfig.users[0]!.user['client-certificate'],
        ])
      ).stdout,
    ).toContain('O=system:masters');
    expect(plans.get('worker-1/kubelet')!.plan.hooks ?? []).toEqual([]);
    // The master's own kubelet certificates, issued per node by the cluster PKI.
    const client = join(root, 'master-1', 'var/lib/slipway/jobs/kubelet/tls/kubelet-client.pem');
    expect(
      (await run('openssl', ['x509', '-noout', '-subject', '-nameopt', 'RFC2253', '-in', client])).stdout,
    ).toContain('CN=system:node:master-1,O=system:nodes');
    const serving = join(root, 'master-1', 'var/lib/slipway/jobs/kubelet/tls/kubelet.pem');
    expect((await run('openssl', ['x509', '-noout', '-checkip', '10.0.0.11', '-in', serving])).stdout).toMatch(
      /does match/,
    );
  });

  it('renders a Corefile CoreDNS reads: the plugins and options kubeadm sets, one directive per line', () => {
    const manifest = JSON.parse(
      readFileSync(join(root, 'master-0/var/lib/slipway/jobs/coredns/coredns.yaml'), 'utf8'),
    ) as { items: Array<{ kind: string; data?: { Corefile?: string } }> };
    const corefile = manifest.items.find((i) => i.kind === 'ConfigMap')!.data!.Corefile!;
    const servers = parseCorefile(corefile);
    expect(servers.map((s) => s.keys)).toEqual([['.:53']]);
    const directives = servers[0]!.directives;
    expect(directives.map((d) => d.name)).toEqual([
      'errors',
      'health',
      'ready',
      'kubernetes',
      'prometheus',
      'forward',
      'cache',
      'loop',
      'reload',
      'loadbalance',
    ]);
    const byName = (name: string) => directives.find((d) => d.name === name)!;
    const options = (d: CorefileDirective) => Object.fromEntries((d.block ?? []).map((o) => [o.name, o.args]));
    expect(options(byName('health'))).toEqual({ lameduck: ['5s'] });
    expect(byName('kubernetes').args).toEqual(['cluster.local', 'in-addr.arpa', 'ip6.arpa']);
    expect(options(byName('kubernetes'))).toEqual({
      pods: ['insecure'],
      fallthrough: ['in-addr.arpa', 'ip6.arpa'],
      ttl: ['30'],
    });
    expect(byName('prometheus').args).toEqual([':9153']);
    // The pod's resolv.conf: with dnsPolicy Default, the node's upstream resolvers (the kubelet's resolvConf).
    expect(byName('forward').args).toEqual(['.', '/etc/resolv.conf']);
    expect(options(byName('forward'))).toEqual({ max_concurrent: ['1000'] });
    expect(byName('cache').args).toEqual(['30']);
    for (const name of ['errors', 'ready', 'loop', 'reload', 'loadbalance'])
      expect(byName(name), name).toMatchObject({ args: [] });
    expect(directives.filter((d) => d.block).map((d) => d.name)).toEqual(['health', 'kubernetes', 'forward']);
  });

  it("refuses the former one-line Corefile with ';' separators, as CoreDNS would", () => {
    const former = readFileSync(
      join(dirname(new URL(import.meta.url).pathname), 'fixtures/corefile-one-line.txt'),
      'utf8',
    );
    expect(() => parseCorefile(former)).toThrow(/line 3: '\{' must be the last token of its line/);
    // Even read leniently (a block on one line), `pods insecure;` names a pods mode that does not exist.
    expect(former).toContain('pods insecure;');
  });

  it("gives the kubelet the node's upstream resolv.conf: systemd-resolved's where it runs, else /etc/resolv.conf", () => {
    const { properties } = plans.get('worker-0/kubelet')!;
    const job = JOBS_BY_GROUP.worker.find((j) => j.name === 'kubelet')!;
    const resolved = join(root, 'resolved-resolv.conf');
    const renderWith = (systemdResolvConf: string) => {
      const catalog = new KubernetesJobCatalog({
        paths: agentPaths(join(root, 'resolv-probe')),
        path: '',
        systemdResolvConf,
        fallbackResolvConf: '/etc/resolv.conf',
      });
      const config = catalog
        .render(job, properties)
        .rendered.files.find((f) => f.path.endsWith('/kubelet/config.yaml'))!;
      return (JSON.parse(config.content) as { resolvConf: string }).resolvConf;
    };
    expect(renderWith(resolved), 'no systemd-resolved (no file): the libc path').toBe('/etc/resolv.conf');
    writeFileSync(resolved, 'nameserver 192.0.2.53\n');
    expect(renderWith(resolved), 'systemd-resolved writes its upstream file: the kubelet reads that one').toBe(
      resolved,
    );
  });

  it('the first master applies CoreDNS once the API answers, with the cluster DNS address', () => {
    const first = plans.get('master-0/coredns')!.plan;
    expect(first.hooks?.map((h) => h.name)).toEqual(['apply-coredns']);
    expect(plans.get('master-1/coredns')!.plan.hooks ?? []).toEqual([]);
    const manifest = JSON.parse(
      readFileSync(join(root, 'master-0/var/lib/slipway/jobs/coredns/coredns.yaml'), 'utf8'),
    ) as { items: Array<{ kind: string; spec?: { clusterIP?: string } }> };
    expect(manifest.items.find((i) => i.kind === 'Service')!.spec!.clusterIP).toBe('10.100.200.10');
  });
});

/** Every file a job's processes, hooks, kubeconfigs and configs name. */
function referencedFiles(plan: JobPlan): string[] {
  const files = new Set<string>();
  const consider = (value: string) => {
    if (value.startsWith('/') && /\.(pem|pub|yaml|toml|kubeconfig)$|kubeconfig$/.test(value)) files.add(value);
  };
  for (const process of plan.processes) {
    for (const arg of process.args) {
      const value = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : arg;
      consider(value);
    }
    const health = process.health;
    if (health?.kind === 'http') [health.caFile, health.certFile, health.keyFile].forEach((f) => f && consider(f));
  }
  for (const hook of plan.hooks ?? [])
    hook.args.forEach((a) => consider(a.includes('=') ? a.slice(a.indexOf('=') + 1) : a));
  // Configs and kubeconfigs name more files (JSON, since YAML is a superset of it).
  const walked = new Set<string>();
  for (let more = true; more; ) {
    more = false;
    for (const file of [...files].filter(
      (f) => !walked.has(f) && /\.(yaml|kubeconfig)$|kubeconfig$/.test(f) && existsSync(f),
    )) {
      walked.add(file);
      more = true;
      const walk = (value: unknown): void => {
        if (typeof value === 'string') consider(value);
        else if (value && typeof value === 'object') Object.values(value).forEach(walk);
      };
      try {
        walk(JSON.parse(readFileSync(file, 'utf8')));
      } catch {
        // Not JSON (a TOML config): its paths are directories and sockets.
      }
    }
  }
  return [...files];
}

function findCa(nodeRoot: string, ca: string): string {
  for (const job of [
    'etcd',
    'kube-apiserver',
    'kube-controller-manager',
    'kube-scheduler',
    'coredns',
    'kubelet',
    'kube-proxy',
  ]) {
    const file = join(nodeRoot, 'var/lib/slipway/jobs', job, 'tls', `${ca}.pem`);
    if (existsSync(file)) return file;
  }
  throw new Error(`no ${ca}.pem rendered under ${nodeRoot}`);
}
