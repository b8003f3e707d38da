import { ApiError, can } from '../api.js';
import { fill, h } from '../dom.js';
import type { ViewContext } from '../types.js';
import { errorBox, table } from './shared.js';

// TKGI's shapes: a usage is {owner, totals{cpu, memory, cluster}}, a quota {owner, limit{cpu, memory, cluster}}.
interface Totals {
  cpu?: number;
  memory?: number;
  cluster?: number;
}
interface Usage {
  owner: string;
  totals: Totals;
}
interface Quota {
  owner: string;
  limit: Totals;
}

const of = (used: number | undefined, max: number | undefined) => `${used ?? 0}${max ? ` of ${max}` : ''}`;

/** Each owner's clusters, CPUs and memory against its quota; admins see every owner, others themselves. */
export async function usagesView(main: HTMLElement, ctx: ViewContext): Promise<void> {
  const body = h('div');
  fill(main, h('h1', {}, 'Usages'), body);
  try {
    const raw = await ctx.api.get<Usage[] | Usage>('/v1/usages', ctx.signal);
    const usages = Array.isArray(raw) ? raw : [raw];
    const quotas = can(ctx.session, 'admin')
      ? await ctx.api.get<Quota[]>('/v1/quotas', ctx.signal).catch(() => [])
      : [];
    const limits = new Map(quotas.map((q) => [q.owner, q.limit]));
    fill(
      body,
      table(
        'Usage by owner (used of quota; no quota shows usage alone)',
        ['Owner', 'Clusters', 'CPUs', 'Memory (GB)'],
        usages.map((u) => {
          const limit = limits.get(u.owner);
          return h(
            'tr',
            {},
            h('th', { scope: 'row' }, u.owner),
            h('td', {}, of(u.totals?.cluster, limit?.cluster)),
            h('td', {}, of(u.totals?.cpu, limit?.cpu)),
            h('td', {}, of(u.totals?.memory, limit?.memory)),
          );
        }),
      ),
    );
  } catch (error) {
    fill(
      body,
      error instanceof ApiError && error.status === 404
        ? h('p', {}, 'This control plane does not report usages.')
        : errorBox(error),
    );
  }
}
