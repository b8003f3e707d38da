import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import credhub from '@slipway/credentials-credhub';
import type { CredentialProvider, JobProperties, PluginHost } from '@slipway/contracts';
import { buildJobProperties, JOBS_BY_GROUP } from '@slipway/engine';
import { agentPaths, KubernetesJobCatalog, type JobPlan } from '../src/index.js';
import { parseCorefile } from './corefile-grammar.js';

/** A component as kubeadm 1.31 configures it (fixtures/kubeadm-1.31.json). */
interface KubeadmComponent {
  kind: 'flags' | 'config' | 'manifest';
  job: string;
  /** The rendered file compared, for configs and manifests (relative to the job's directory). */
  file?: string;
  groups: Array<'master' | 'worker'>;
  /** Only these nodes (the CoreDNS addon is applied from the first master). */
  nodes?: string[];
  expected: Record<string, unknown>;
}

interface KubeadmTable {
  cluster: Record<string, string | number>;
  components: Record<string, KubeadmComponent>;
  /** Every intended difference, with why; `key` is a flag, a dotted config path or a cluster setting. */
  differences: Array<{ component: string; key: string; reason: string }>;
}

const here = dirname(fileURLToPath(import.meta.url));
const table = JSON.parse(readFileSync(join(here, 'fixtures/kubeadm-1.31.json'), 'utf8')) as KubeadmTable;
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
const RESOLV_CONF = '/etc/resolv.conf';

const cluster = {
  uuid: '8d3c5a8e-0000-4000-8000-00000000c131',
  name: 'parity',
  k8s_version: '1.31.4',
  external_hostname: 'parity.example.test',
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
  ...[0, 1, 2].map((idx) => ({
    id: `w${idx}`,
    group_name: 'worker' as const,
    idx,
    ip: `10.0.1.${10 + idx}`,
    desired: 'present',
  })),
];

interface RenderedNode {
  name: string;
  group: 'master' | 'worker';
  properties: JobProperties;
  plans: Map<string, JobPlan>;
  jobsDir: string;
}

/** One difference found: `differs` (both set, not equal), `absent` (kubeadm sets it, we do not), `added` (only we set it). */
interface Found {
  component: string;
  key: string;
  what: 'differs' | 'absent' | 'added';
  detail: string;
}

/**
 * Renders every job of a 3-master, 3-worker cluster and compares each component's flags and config files
 * with kubeadm 1.31's (a checked-in table), leaf by leaf. Every difference must be named in the table with
 * its reason, and every named difference must still exist: the table cannot drift from the renders.
 */
describe('rendered jobs against kubeadm 1.31', () => {
  let provider: CredentialProvider;
  let dataDir: string;
  let root: string;
  const nodes: RenderedNode[] = [];
  const found: Found[] = [];

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'parity-credhub-'));
    root = mkdtempSync(join(tmpdir(), 'parity-nodes-'));
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
      const paths = agentPaths(nodeRoot);
      const catalog = new KubernetesJobCatalog({
        paths,
        path: '',
        systemdResolvConf: join(root, 'no-systemd-resolved'),
        fallbackResolvConf: RESOLV_CONF,
      });
      const plans = new Map<string, JobPlan>();
      for (const job of JOBS_BY_GROUP[instance.group_name]) {
        plans.set(
          job.name,
          await catalog.plan(job, { settings: {} as never, properties, signal: new AbortController().signal }),
        );
      }
      nodes.push({
        name: properties.node!.name,
        group: instance.group_name,
        properties,
        plans,
        jobsDir: paths.jobsDir,
      });
    }
    for (const [component, spec] of Object.entries(table.components)) {
      for (const node of nodes.filter(
        (n) => spec.groups.includes(n.group) && (!spec.nodes || spec.nodes.includes(n.name)),
      )) {
        found.push(...compareComponent(component, spec, node));
      }
    }
    found.push(...compareCluster(nodes[0]!.properties));
  }, 120_000);

  afterAll(async () => {
    await provider?.destroy();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(root, { recursive: true, force: true });
  });

  it('renders the six nodes it compares', () => {
    expect(nodes.map((n) => n.name)).toEqual(['master-0', 'master-1', 'master-2', 'worker-0', 'worker-1', 'worker-2']);
  });

  it('differs from kubeadm only where the table says why', () => {
    const listed = new Set(table.differences.map((d) => `${d.component} ${d.key}`));
    const unlisted = [
      ...new Map(
        found
          .filter((f) => !listed.has(`${f.component} ${f.key}`))
          .map((f) => [`${f.component} ${f.key}`, `${f.component} ${f.key}: ${f.what} (${f.detail})`]),
      ).values(),
    ];
    expect(unlisted, 'differences from kubeadm 1.31 not named in fixtures/kubeadm-1.31.json').toEqual([]);
  });

  it('names no difference that is not there, and gives each a reason', () => {
    const seen = new Set(found.map((f) => `${f.component} ${f.key}`));
    expect(
      table.differences.filter((d) => !seen.has(`${d.component} ${d.key}`)).map((d) => `${d.component} ${d.key}`),
      'listed differences that no longer exist',
    ).toEqual([]);
    expect(
      table.differences.filter((d) => d.reason.trim().length < 20).map((d) => `${d.component} ${d.key}`),
      'differences without a real reason',
    ).toEqual([]);
  });

  it('matches kubeadm on what matters most to a working cluster', () => {
    // A guard against listing away the essentials: these must never become differences.
    const essential = [
      'kube-apiserver --authorization-mode',
      'kube-apiserver --enable-admission-plugins',
      'kube-apiserver --client-ca-file',
      'etcd --client-cert-auth',
      'etcd --peer-client-cert-auth',
      'etcd --experimental-initial-corrupt-check',
      'etcd --listen-metrics-urls',
      'etcd --experimental-watch-progress-notify-interval',
      'kubelet-config authentication.anonymous.enabled',
      'kubelet-config authorization.mode',
      'kubelet-config resolvConf',
      'kubelet-config clusterDNS.0',
      'coredns ConfigMap.data.Corefile',
      'kube-controller-manager --use-service-account-credentials',
    ];
    expect(found.filter((f) => essential.includes(`${f.component} ${f.key}`))).toEqual([]);
  });
});

function compareComponent(component: string, spec: KubeadmComponent, node: RenderedNode): Found[] {
  const plan = node.plans.get(spec.job);
  if (!plan) return [{ component, key: '(job)', what: 'absent', detail: `${node.name} runs no ${spec.job}` }];
  const ours = oursOf(spec, node, plan);
  const expected = spec.kind === 'flags' ? spec.expected : flatten(spec.expected);
  const out: Found[] = [];
  for (const [key, want] of Object.entries(expected)) {
    const have = ours[key];
    if (component === 'coredns' && key === 'ConfigMap.data.Corefile') {
      const same =
        typeof have === 'string' &&
        JSON.stringify(parseCorefile(have)) === JSON.stringify(parseCorefile(substitute(String(want), node)));
      if (!same) out.push({ component, key, what: 'differs', detail: `${node.name}: the Corefile differs` });
      continue;
    }
    if (have === undefined) {
      if (spec.kind !== 'flags' && isZero(want)) continue;
      out.push({ component, key, what: 'absent', detail: `${node.name}: kubeadm ${JSON.stringify(want)}` });
      continue;
    }
    const verdict = matches(want, have, node);
    if (verdict !== true)
      out.push({
        component,
        key,
        what: 'differs',
        detail: `${node.name}: kubeadm ${JSON.stringify(want)}, ours ${JSON.stringify(have)}${verdict ? `; ${verdict}` : ''}`,
      });
  }
  for (const [key, have] of Object.entries(ours)) {
    if (key in expected) continue;
    if (spec.kind !== 'flags' && isZero(have)) continue;
    out.push({ component, key, what: 'added', detail: `${node.name}: ours ${JSON.stringify(have)}` });
  }
  return out;
}

/** Our side of a component: the process's flags, or the rendered file flattened to dotted paths. */
function oursOf(spec: KubeadmComponent, node: RenderedNode, plan: JobPlan): Record<string, unknown> {
  if (spec.kind === 'flags') {
    const process = plan.processes.find((p) => p.name === spec.job)!;
    return Object.fromEntries(
      process.args.map((arg) => {
        const at = arg.indexOf('=');
        return at < 0 ? [arg, 'true'] : [arg.slice(0, at), arg.slice(at + 1)];
      }),
    );
  }
  const content = JSON.parse(readFileSync(join(node.jobsDir, spec.job, spec.file!), 'utf8')) as Record<string, unknown>;
  if (spec.kind === 'config') return flatten(content);
  const items = (content as { items: Array<{ kind: string }> }).items;
  return flatten(Object.fromEntries(items.map((item) => [item.kind, item])));
}

/** Our cluster's settings against kubeadm's defaults (the flags above take ours through `{cluster.X}`). */
function compareCluster(properties: JobProperties): Found[] {
  const ours = properties.cluster as unknown as Record<string, unknown>;
  return Object.entries(table.cluster)
    .filter(([key, want]) => ours[key] !== want)
    .map(([key, want]) => ({
      component: 'cluster',
      key,
      what: 'differs' as const,
      detail: `kubeadm ${JSON.stringify(want)}, ours ${JSON.stringify(ours[key])}`,
    }));
}

/** true when equal; otherwise false or why (a file that holds something else). */
function matches(want: unknown, have: unknown, node: RenderedNode): true | false | string {
  if (typeof want !== 'string') return JSON.stringify(want) === JSON.stringify(have) || false;
  if (typeof have !== 'string') return String(have) === substitute(want, node) || false;
  if (!want.startsWith('@')) return substitute(want, node) === have || false;
  if (!existsSync(have)) return `${have} does not exist`;
  if (want === '@file') return true;
  const content = readFileSync(have, 'utf8').trim();
  const [kind, ...rest] = want.slice(1).split(':');
  const role = rest.join(':');
  if (kind === 'kubeconfig') {
    const user = (JSON.parse(content) as { users: Array<{ name: string }> }).users[0]?.name;
    return user === substitute(role, node) || `a kubeconfig for ${user}`;
  }
  const material = node.properties.tls?.[role];
  if (!material) return `no tls.${role} on ${node.name}`;
  const pem = kind === 'cert' ? material.certificate : kind === 'key' ? material.privateKey : material.publicKey;
  return pem?.trim() === content || `${have} does not hold the ${kind} of ${role}`;
}

/** `{cluster.X}`, `{node.X}`, `{self.X}` (the node's etcd member), `{host.resolvConf}`. */
function substitute(text: string, node: RenderedNode): string {
  const self = node.properties.etcd?.members.find((m) => m.name === node.name);
  const scopes: Record<string, Record<string, unknown> | undefined> = {
    cluster: node.properties.cluster as unknown as Record<string, unknown>,
    node: node.properties.node as unknown as Record<string, unknown>,
    self: self as unknown as Record<string, unknown>,
    host: { resolvConf: RESOLV_CONF },
  };
  return text.replace(/\{(cluster|node|self|host)\.(\w+)\}/g, (_, scope: string, key: string) =>
    String(scopes[scope]?.[key] ?? `{${scope}.${key}?}`),
  );
}

function flatten(value: unknown, prefix = '', out: Record<string, unknown> = {}): Record<string, unknown> {
  if (Array.isArray(value)) {
    if (!value.length) out[prefix] = [];
    value.forEach((item, i) => flatten(item, prefix ? `${prefix}.${i}` : String(i), out));
  } else if (value && typeof value === 'object') {
    const entries = Object.entries(value);
    if (!entries.length && prefix) out[prefix] = {};
    for (const [key, item] of entries) flatten(item, prefix ? `${prefix}.${key}` : key, out);
  } else if (prefix) {
    out[prefix] = value;
  }
  return out;
}

function isZero(value: unknown): boolean {
  return value === false || value === '' || value === 0;
}
