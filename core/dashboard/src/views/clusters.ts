import { can } from '../api.js';
import { badge, fill, h } from '../dom.js';
import { follow, throttled } from '../stream.js';
import type { Cluster, ViewContext } from '../types.js';
import { errorBox, every, field, table } from './shared.js';

interface Plan {
  name: string;
  description: string;
  worker_instances: number;
  max_worker_instances?: number;
}
interface Health {
  states: Record<string, number>;
}

/** Every cluster the user may see, with its state and its instances' health at a glance. */
export async function clustersView(main: HTMLElement, ctx: ViewContext): Promise<void> {
  const list = h('div', { id: 'cluster-list' });
  const formSlot = h('div');
  fill(
    main,
    h(
      'div',
      { class: 'title-row' },
      h('h1', {}, 'Clusters'),
      can(ctx.session, 'create')
        ? h('button', { type: 'button', onclick: () => void showCreateForm(formSlot, ctx) }, 'Create cluster')
        : null,
    ),
    formSlot,
    list,
  );

  const load = async () => {
    try {
      const clusters = await ctx.api.get<Cluster[]>('/v1/clusters', ctx.signal);
      const health = await Promise.all(
        clusters.map((c) =>
          ctx.api.get<Health>(`/v1/clusters/${encodeURIComponent(c.name)}/health`, ctx.signal).catch(() => null),
        ),
      );
      fill(
        list,
        table(
          'Clusters',
          ['Name', 'Plan', 'Owner', 'Kubernetes', 'Last action', 'State', 'Instances', 'API'],
          clusters.map((c, i) =>
            h(
              'tr',
              {},
              h('th', { scope: 'row' }, h('a', { href: `#/clusters/${encodeURIComponent(c.name)}` }, c.name)),
              h('td', {}, c.plan_name),
              h('td', {}, c.owner),
              h('td', {}, c.k8s_version),
              h('td', {}, c.last_action ?? ''),
              h('td', {}, badge(c.last_action_state)),
              h('td', {}, healthSummary(health[i])),
              h('td', {}, c.kubernetes_api_vip ?? c.kubernetes_master_ips[0] ?? ''),
            ),
          ),
        ),
      );
    } catch (error) {
      if (!ctx.signal.aborted) fill(list, errorBox(error));
    }
  };
  await load();
  const refresh = throttled(load, 500);
  follow(ctx.api, '/v1/events', refresh, ctx.signal, () => every(5000, ctx.signal, load));
}

function healthSummary(health: Health | null): HTMLElement | string {
  if (!health) return '';
  const entries = Object.entries(health.states);
  if (!entries.length) return 'none';
  return h(
    'span',
    { class: 'states' },
    entries.map(([state, count]) => h('span', {}, badge(state), ` ${count}`)),
  );
}

async function showCreateForm(slot: HTMLElement, ctx: ViewContext): Promise<void> {
  if (slot.firstChild) {
    fill(slot);
    return;
  }
  const plans = await ctx.api.get<Plan[]>('/v1/plans', ctx.signal);
  const name = h('input', {
    name: 'name',
    required: true,
    pattern: '[a-z0-9]([a-z0-9\\-]{0,38}[a-z0-9])?',
    autocomplete: 'off',
  });
  const plan = h(
    'select',
    { name: 'plan' },
    plans.map((p) => h('option', { value: p.name }, `${p.name}${p.description ? `: ${p.description}` : ''}`)),
  );
  const host = h('input', {
    name: 'external_hostname',
    required: true,
    placeholder: 'api.example.com',
    autocomplete: 'off',
  });
  const workers = h('input', { name: 'workers', type: 'number', min: 1, placeholder: 'plan default' });
  const status = h('div', { 'aria-live': 'polite' });
  const form = h(
    'form',
    { class: 'card', 'aria-label': 'Create cluster' },
    h('h2', {}, 'Create cluster'),
    field('Name', name, '1 to 40 lowercase letters, digits and dashes.'),
    field('Plan', plan),
    field('External hostname', host, 'The name clients use for the Kubernetes API.'),
    field('Workers', workers, "At least 1; empty for the plan's default."),
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'submit' }, 'Create'),
      h('button', { type: 'button', class: 'secondary', onclick: () => fill(slot) }, 'Cancel'),
    ),
    status,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    fill(status);
    try {
      const parameters: Record<string, unknown> = { kubernetes_master_host: host.value.trim() };
      if (workers.value) parameters.kubernetes_worker_instances = Number(workers.value);
      const cluster = await ctx.api.call<Cluster>('POST', '/v1/clusters', {
        name: name.value.trim(),
        plan_name: plan.value,
        parameters,
      });
      ctx.announce(`Creating cluster ${cluster.name}`);
      ctx.go(cluster.task_id ? `#/tasks/${cluster.task_id}` : `#/clusters/${encodeURIComponent(cluster.name)}`);
    } catch (error) {
      fill(status, errorBox(error));
    }
  });
  fill(slot, form);
  name.focus();
}
