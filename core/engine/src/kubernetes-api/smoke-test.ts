import { inject, injectable } from 'tsyringe';
import { SlipwayError, type Clock } from '@slipway/contracts';
import { nodeNameOf } from '../agents/job-properties.js';
import type { ClusterRow, Store } from '../store/index.js';
import { CLOCK, STORE } from '../tokens.js';
import type { KubernetesApiClient } from './client.js';
import { ClusterApi, describeAbsence } from './cluster-api.js';

export const SMOKE_CHECKS = ['api', 'nodes', 'dns', 'pods'] as const;
export type SmokeCheckName = (typeof SMOKE_CHECKS)[number];
export const SMOKE_STATES = ['passed', 'failed', 'not-checked'] as const;
export type SmokeCheckState = (typeof SMOKE_STATES)[number];

export interface SmokeCheck {
  name: SmokeCheckName;
  state: SmokeCheckState;
  /** What was checked and what was found, or why it could not be checked. */
  detail: string;
}

export interface SmokeTestReport {
  cluster: string;
  /** True only when every check passed: a check that could not run is not a pass. */
  passed: boolean;
  checks: SmokeCheck[];
}

const NAMESPACE = 'default';
const POD_TIMEOUT_MS = 120_000;
const POD_IMAGE = 'registry.k8s.io/pause:3.10';

interface NodeList {
  items: Array<{
    metadata: { name: string };
    status?: { conditions?: Array<{ type: string; status: string; message?: string }> };
  }>;
}
interface Endpoints {
  subsets?: Array<{ addresses?: unknown[]; notReadyAddresses?: unknown[] }>;
}
interface Pod {
  status?: { phase?: string; reason?: string; message?: string };
}

/**
 * TKGI's smoke-test errand for one cluster: the API answers /readyz, every node is registered and Ready,
 * CoreDNS has ready endpoints, and a pod starts on every node. Each check says what it found; where the
 * cluster has no API (binaries missing, or a plan with require_api: false), each says why it was not checked.
 */
@injectable()
export class SmokeTest {
  constructor(
    @inject(ClusterApi) private readonly api: ClusterApi,
    @inject(STORE) private readonly store: Store,
    @inject(CLOCK) private readonly clock: Clock,
  ) {}

  async run(cluster: ClusterRow, signal?: AbortSignal): Promise<SmokeTestReport> {
    const absence = await this.api.absence(cluster);
    if (absence) {
      const reason = describeAbsence(absence);
      return report(cluster, [
        { name: 'api', state: 'not-checked', detail: `no Kubernetes API to ask: ${reason}` },
        { name: 'nodes', state: 'not-checked', detail: `needs the API (${reason})` },
        { name: 'dns', state: 'not-checked', detail: `needs the API (${reason})` },
        { name: 'pods', state: 'not-checked', detail: `needs the API (${reason})` },
      ]);
    }
    const client = await this.api.client(cluster, 'admin', { timeoutMs: 10_000 });
    const ready = await client.readyz(signal);
    const api: SmokeCheck = {
      name: 'api',
      state: ready.ready ? 'passed' : 'failed',
      detail: ready.ready ? `${ready.detail} at ${client.url}` : ready.detail,
    };
    if (!ready.ready) {
      const after = `not run: the API did not answer /readyz (${ready.detail})`;
      return report(cluster, [
        api,
        ...(['nodes', 'dns', 'pods'] as const).map((name) => ({ name, state: 'not-checked' as const, detail: after })),
      ]);
    }
    const expected = (await this.store.instances.ofCluster(cluster.uuid))
      .filter((i) => i.desired === 'present')
      .map(nodeNameOf);
    return report(cluster, [
      api,
      await this.check('nodes', () => this.nodes(client, expected, signal)),
      await this.check('dns', () => this.dns(client, signal)),
      await this.check('pods', () => this.pods(client, expected, signal)),
    ]);
  }

  private async check(name: SmokeCheckName, run: () => Promise<SmokeCheck>): Promise<SmokeCheck> {
    try {
      return await run();
    } catch (error) {
      return { name, state: 'failed', detail: SlipwayError.from(error).message };
    }
  }

  private async nodes(client: KubernetesApiClient, expected: string[], signal?: AbortSignal): Promise<SmokeCheck> {
    const list = await client.get<NodeList>('/api/v1/nodes', signal);
    const readyOf = new Map(
      list.items.map((n) => [n.metadata.name, n.status?.conditions?.find((c) => c.type === 'Ready')]),
    );
    const missing = expected.filter((n) => !readyOf.has(n));
    const notReady = expected
      .filter((n) => readyOf.has(n) && readyOf.get(n)?.status !== 'True')
      .map((n) => `${n} (${readyOf.get(n)?.message ?? `Ready=${readyOf.get(n)?.status ?? 'unknown'}`})`);
    if (!missing.length && !notReady.length)
      return { name: 'nodes', state: 'passed', detail: `${expected.length} of ${expected.length} nodes Ready` };
    const parts = [
      missing.length ? `not registered: ${missing.join(', ')}` : '',
      notReady.length ? `not Ready: ${notReady.join(', ')}` : '',
    ].filter(Boolean);
    return { name: 'nodes', state: 'failed', detail: parts.join('; ') };
  }

  private async dns(client: KubernetesApiClient, signal?: AbortSignal): Promise<SmokeCheck> {
    const endpoints = await client.get<Endpoints>('/api/v1/namespaces/kube-system/endpoints/kube-dns', signal);
    const ready = (endpoints.subsets ?? []).reduce((n, s) => n + (s.addresses?.length ?? 0), 0);
    const notReady = (endpoints.subsets ?? []).reduce((n, s) => n + (s.notReadyAddresses?.length ?? 0), 0);
    return ready > 0
      ? {
          name: 'dns',
          state: 'passed',
          detail: `the kube-dns Service has ${ready} ready CoreDNS endpoint${ready > 1 ? 's' : ''}`,
        }
      : {
          name: 'dns',
          state: 'failed',
          detail: `the kube-dns Service has no ready CoreDNS endpoint (${notReady} not ready)`,
        };
  }

  /** A pause pod pinned to every node; each must reach Running. The pods are deleted whatever the outcome. */
  private async pods(client: KubernetesApiClient, nodes: string[], signal?: AbortSignal): Promise<SmokeCheck> {
    const suffix = this.clock.now().toString(36);
    const names = new Map(nodes.map((node) => [node, `slipway-smoke-${node}-${suffix}`.slice(0, 63)]));
    const base = `/api/v1/namespaces/${NAMESPACE}/pods`;
    try {
      for (const [node, name] of names) {
        await client.create(
          base,
          {
            apiVersion: 'v1',
            kind: 'Pod',
            metadata: { name, labels: { 'app.kubernetes.io/managed-by': 'slipway', 'slipway.dev/smoke-test': 'true' } },
            spec: {
              nodeName: node,
              restartPolicy: 'Never',
              terminationGracePeriodSeconds: 0,
              tolerations: [{ operator: 'Exists' }],
              containers: [{ name: 'pause', image: POD_IMAGE }],
            },
          },
          signal,
        );
      }
      const deadline = this.clock.now() + POD_TIMEOUT_MS;
      const pending = new Map(names);
      let last = new Map<string, string>();
      while (pending.size && this.clock.now() < deadline) {
        last = new Map();
        for (const [node, name] of pending) {
          const pod = await client.get<Pod>(`${base}/${name}`, signal);
          if (pod.status?.phase === 'Running') pending.delete(node);
          else
            last.set(
              node,
              `${pod.status?.phase ?? 'Pending'}${pod.status?.reason ? ` (${pod.status.reason}${pod.status.message ? `: ${pod.status.message}` : ''})` : ''}`,
            );
        }
        if (pending.size) await new Promise((r) => setTimeout(r, 1000));
      }
      if (!pending.size) return { name: 'pods', state: 'passed', detail: `a pod ran on each of ${nodes.length} nodes` };
      return {
        name: 'pods',
        state: 'failed',
        detail: `no running pod within ${POD_TIMEOUT_MS / 1000} s on: ${[...pending.keys()].map((n) => `${n} ${last.get(n) ?? ''}`.trim()).join(', ')}`,
      };
    } finally {
      for (const name of names.values()) await client.delete(`${base}/${name}`).catch(() => undefined);
    }
  }
}

function report(cluster: ClusterRow, checks: SmokeCheck[]): SmokeTestReport {
  return { cluster: cluster.name, passed: checks.every((c) => c.state === 'passed'), checks };
}
