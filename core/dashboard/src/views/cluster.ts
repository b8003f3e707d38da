import { can } from '../api.js';
import { ago, badge, fill, h, until } from '../dom.js';
import { follow, throttled } from '../stream.js';
import type { Cluster, ClusterEvent, Instance, ViewContext } from '../types.js';
import { errorBox, every, field, table } from './shared.js';

interface Certificates {
  certificates: Array<{ name: string; kind: string; not_after: string; days_left: number }>;
}
interface Iaas {
  name: string;
  rehearsal: boolean;
}

/**
 * One cluster: its settings, network VIP and registry project, instances with their processes, heartbeats
 * and disks, certificate expiry, and recent events, kept current from the event stream.
 */
export async function clusterView(main: HTMLElement, ctx: ViewContext, name: string): Promise<void> {
  const path = `/v1/clusters/${encodeURIComponent(name)}`;
  const summary = h('section', { 'aria-labelledby': 'summary-h' });
  const actions = h('section', { 'aria-label': 'Actions' });
  const instances = h('section', { 'aria-labelledby': 'instances-h' });
  const certificates = h('section', { 'aria-labelledby': 'certs-h' });
  const events = h('section', { 'aria-labelledby': 'events-h' });
  fill(
    main,
    h('p', {}, h('a', { href: '#/clusters' }, '← Clusters')),
    h('h1', {}, name),
    summary,
    actions,
    instances,
    certificates,
    events,
  );

  let cluster: Cluster;
  try {
    cluster = await ctx.api.get<Cluster>(path, ctx.signal);
  } catch (error) {
    fill(main, h('h1', {}, name), errorBox(error), h('p', {}, h('a', { href: '#/clusters' }, 'Back to clusters')));
    return;
  }
  const iaas = can(ctx.session, 'rehearse') ? await ctx.api.get<Iaas[]>('/v1/iaas', ctx.signal).catch(() => []) : [];
  const rehearsal = iaas.some((t) => t.name === cluster.iaas && t.rehearsal);

  const load = async () => {
    try {
      const [c, list, eventList] = await Promise.all([
        ctx.api.get<Cluster>(path, ctx.signal),
        ctx.api.get<Instance[]>(`${path}/instances`, ctx.signal),
        ctx.api.get<ClusterEvent[]>(`${path}/events`, ctx.signal),
      ]);
      cluster = c;
      renderSummary(summary, c);
      renderInstances(instances, list, rehearsal ? (vm) => kill(ctx, c.iaas, vm) : null);
      renderEvents(events, eventList);
    } catch (error) {
      if (!ctx.signal.aborted) fill(summary, errorBox(error));
    }
  };
  await load();
  if (can(ctx.session, 'manage')) renderActions(actions, ctx, cluster);
  void ctx.api.get<Certificates>(`${path}/certificates`, ctx.signal).then(
    (c) => renderCertificates(certificates, c),
    () => fill(certificates),
  );
  const refresh = throttled(load, 400);
  follow(ctx.api, `/v1/events?cluster=${encodeURIComponent(name)}`, refresh, ctx.signal, () =>
    every(2000, ctx.signal, load),
  );
  // Not every change is an event (a heartbeat, a VM's state settling after the event that started it):
  // a slow refresh keeps heartbeat ages and states current between events.
  every(3000, ctx.signal, load);
}

function renderSummary(section: HTMLElement, c: Cluster): void {
  const row = (term: string, value: Node | string) => [h('dt', {}, term), h('dd', {}, value)];
  fill(
    section,
    h('h2', { id: 'summary-h' }, 'Summary'),
    h(
      'dl',
      { class: 'summary' },
      row('State', h('span', {}, badge(c.last_action_state), ` ${c.last_action_description ?? ''}`)),
      row('Plan', c.plan_name),
      row('Owner', c.owner),
      row('Cloud', c.iaas),
      row('Kubernetes', c.k8s_version),
      row('API', `https://${c.parameters.kubernetes_master_host}:${c.parameters.kubernetes_master_port}`),
      row('API VIP', c.kubernetes_api_vip ?? "none (a master's own address)"),
      row(
        'Masters / workers',
        `${c.parameters.kubernetes_master_instances} / ${c.parameters.kubernetes_worker_instances}`,
      ),
      row('Network profile', c.network_profile_name ?? 'default'),
      row('Registry project', c.registry ? `${c.registry.project} at ${c.registry.endpoint}` : 'none'),
      c.task_id ? row('Last task', h('a', { href: `#/tasks/${c.task_id}` }, `task ${c.task_id}`)) : [],
    ),
  );
}

function renderInstances(
  section: HTMLElement,
  list: Instance[],
  onKill: ((vm: Instance) => Promise<void>) | null,
): void {
  const headings = ['Instance', 'State', 'IP', 'VM', 'Heartbeat', 'Processes', 'Disk'];
  if (onKill) headings.push('Rehearse');
  fill(
    section,
    h('h2', { id: 'instances-h' }, 'Instances'),
    table(
      'Instances',
      headings,
      list.map((i) =>
        h(
          'tr',
          { 'data-instance': i.name },
          h('th', { scope: 'row' }, i.name),
          h('td', {}, badge(i.state)),
          h('td', {}, i.ip ?? ''),
          h('td', { class: 'mono', 'data-vm': i.vm_cid ?? '' }, i.vm_cid ?? 'none'),
          h('td', {}, ago(i.last_heartbeat_at)),
          h(
            'td',
            {},
            h(
              'ul',
              { class: 'processes' },
              i.processes.map((job) => h('li', { title: job.unavailable ?? '' }, `${job.name} `, badge(jobState(job)))),
            ),
          ),
          h(
            'td',
            {},
            i.persistent_disk
              ? `${i.persistent_disk.size_mb} MB${i.persistent_disk.mounted ? ', mounted' : ''}`
              : 'none',
          ),
          onKill
            ? h(
                'td',
                {},
                i.vm_cid
                  ? h(
                      'button',
                      {
                        type: 'button',
                        class: 'danger',
                        'aria-label': `Kill VM of ${i.name}`,
                        onclick: () => void onKill(i),
                      },
                      'Kill VM',
                    )
                  : '',
              )
            : null,
        ),
      ),
    ),
  );
}

/** A job's state at a glance: `unavailable` when it cannot run here, else its worst process's state. */
function jobState(job: Instance['processes'][number]): string {
  if (job.unavailable) return 'unavailable';
  const states = (job.processes ?? []).map((p) => p.state);
  if (!states.length) return 'configured';
  return states.find((state) => state !== 'running') ?? 'running';
}

function renderEvents(section: HTMLElement, events: ClusterEvent[]): void {
  fill(
    section,
    h('h2', { id: 'events-h' }, 'Recent events'),
    h(
      'ol',
      { class: 'events', 'aria-live': 'polite' },
      events
        .slice(0, 20)
        .map((e) =>
          h(
            'li',
            {},
            h('time', { datetime: e.at, title: e.at }, ago(e.at)),
            ' ',
            badge(e.severity),
            ' ',
            e.instance ? `${e.instance}: ` : '',
            e.message,
          ),
        ),
    ),
  );
}

function renderCertificates(section: HTMLElement, c: Certificates): void {
  const soonest = [...c.certificates].sort((a, b) => a.not_after.localeCompare(b.not_after)).slice(0, 8);
  fill(
    section,
    h('h2', { id: 'certs-h' }, 'Certificates (soonest to expire)'),
    table(
      'Certificates',
      ['Name', 'Kind', 'Expires'],
      soonest.map((cert) =>
        h(
          'tr',
          {},
          h('th', { scope: 'row' }, cert.name),
          h('td', {}, cert.kind),
          h(
            'td',
            { class: cert.days_left < 30 ? 'warn' : '' },
            `${until(cert.not_after)} (${cert.not_after.slice(0, 10)})`,
          ),
        ),
      ),
    ),
  );
}

function renderActions(section: HTMLElement, ctx: ViewContext, c: Cluster): void {
  const workers = h('input', { type: 'number', min: 1, value: c.parameters.kubernetes_worker_instances });
  const status = h('div', { 'aria-live': 'polite' });
  const resize = h(
    'form',
    { class: 'inline', 'aria-label': 'Resize' },
    field('Workers', workers),
    h('button', { type: 'submit' }, 'Resize'),
  );
  resize.addEventListener('submit', async (event) => {
    event.preventDefault();
    await submit(
      ctx,
      status,
      () =>
        ctx.api.call<Cluster>('PATCH', `/v1/clusters/${encodeURIComponent(c.name)}`, {
          kubernetes_worker_instances: Number(workers.value),
        }),
      `Resizing ${c.name}`,
    );
  });
  const remove = h(
    'button',
    {
      type: 'button',
      class: 'danger',
      onclick: async () => {
        if (!window.confirm(`Delete cluster ${c.name} and all its VMs and disks?`)) return;
        await submit(
          ctx,
          status,
          () => ctx.api.call<Cluster>('DELETE', `/v1/clusters/${encodeURIComponent(c.name)}`),
          `Deleting ${c.name}`,
        );
      },
    },
    'Delete cluster',
  );
  fill(section, h('div', { class: 'actions' }, resize, remove), status);
}

async function submit(
  ctx: ViewContext,
  status: HTMLElement,
  call: () => Promise<Cluster>,
  message: string,
): Promise<void> {
  fill(status);
  try {
    const cluster = await call();
    ctx.announce(message);
    if (cluster.task_id) ctx.go(`#/tasks/${cluster.task_id}`);
  } catch (error) {
    fill(status, errorBox(error));
  }
}

async function kill(ctx: ViewContext, iaas: string, vm: Instance): Promise<void> {
  if (!vm.vm_cid) return;
  await ctx.api.call('POST', `/v1/sandbox/${encodeURIComponent(iaas)}/vms/${encodeURIComponent(vm.vm_cid)}/kill`);
  ctx.announce(`Killed the VM of ${vm.name}; the health monitor will notice and recreate it`);
}
