import { ago, badge, fill, h } from '../dom.js';
import { follow, throttled } from '../stream.js';
import type { ViewContext } from '../types.js';
import { errorBox, every, table } from './shared.js';

interface Fleet {
  id: number;
  state: string;
  user: string;
  params: { kubernetes_version: string | null; stemcell: string | null; max_in_flight: number };
  clusters: Array<{
    cluster_name: string;
    is_canary: boolean;
    state: string;
    task_id: number | null;
    detail: string | null;
  }>;
  summary: Record<string, number>;
  created_at: string;
}

/** Fleet upgrades with each member's progress: canaries first, then batches of max_in_flight. */
export async function fleetView(main: HTMLElement, ctx: ViewContext): Promise<void> {
  const body = h('div');
  fill(main, h('h1', {}, 'Fleet upgrades'), body);
  const load = async () => {
    try {
      const fleets = await ctx.api.get<Fleet[]>('/v1/fleet-upgrades', ctx.signal);
      fill(
        body,
        fleets.length
          ? fleets.map((f) =>
              h(
                'section',
                { class: 'card' },
                h('h2', {}, `Upgrade ${f.id} `, badge(f.state)),
                h(
                  'p',
                  {},
                  `To ${[f.params.kubernetes_version && `Kubernetes ${f.params.kubernetes_version}`, f.params.stemcell && `stemcell ${f.params.stemcell}`].filter(Boolean).join(', ') || 'the catalog default'}, ${f.params.max_in_flight} in flight, by ${f.user}, ${ago(f.created_at)}`,
                ),
                h(
                  'label',
                  { for: `fleet-${f.id}` },
                  `${f.summary.succeeded ?? 0} of ${f.clusters.length} clusters upgraded`,
                ),
                h('progress', { id: `fleet-${f.id}`, max: f.clusters.length || 1, value: f.summary.succeeded ?? 0 }),
                table(
                  `Clusters of upgrade ${f.id}`,
                  ['Cluster', 'Canary', 'State', 'Task'],
                  f.clusters.map((m) =>
                    h(
                      'tr',
                      {},
                      h(
                        'th',
                        { scope: 'row' },
                        h('a', { href: `#/clusters/${encodeURIComponent(m.cluster_name)}` }, m.cluster_name),
                      ),
                      h('td', {}, m.is_canary ? 'yes' : ''),
                      h('td', {}, badge(m.state), m.detail ? ` ${m.detail}` : ''),
                      h('td', {}, m.task_id ? h('a', { href: `#/tasks/${m.task_id}` }, String(m.task_id)) : ''),
                    ),
                  ),
                ),
              ),
            )
          : h('p', {}, 'No fleet upgrades yet.'),
      );
    } catch (error) {
      if (!ctx.signal.aborted) fill(body, errorBox(error));
    }
  };
  await load();
  follow(ctx.api, '/v1/events', throttled(load, 500), ctx.signal, () => every(3000, ctx.signal, load));
}
