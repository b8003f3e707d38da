import { can } from '../api.js';
import { ago, badge, fill, h } from '../dom.js';
import { follow, throttled } from '../stream.js';
import { FINISHED, type Task, type ViewContext } from '../types.js';
import { errorBox, every, table } from './shared.js';

export async function tasksView(main: HTMLElement, ctx: ViewContext): Promise<void> {
  const list = h('div');
  fill(main, h('h1', {}, 'Tasks'), list);
  const load = async () => {
    try {
      const tasks = await ctx.api.get<Task[]>('/v1/tasks?limit=50', ctx.signal);
      fill(
        list,
        table(
          'Recent tasks',
          ['Task', 'Type', 'Cluster', 'User', 'State', 'Progress', 'Started'],
          tasks.map((t) =>
            h(
              'tr',
              {},
              h('th', { scope: 'row' }, h('a', { href: `#/tasks/${t.id}` }, String(t.id))),
              h('td', {}, t.type),
              h('td', {}, t.cluster_name),
              h('td', {}, t.user),
              h('td', {}, badge(t.state)),
              h('td', {}, `${t.progress.done}/${t.progress.total}`),
              h('td', {}, ago(t.created_at)),
            ),
          ),
        ),
      );
    } catch (error) {
      if (!ctx.signal.aborted) fill(list, errorBox(error));
    }
  };
  await load();
  follow(ctx.api, '/v1/events', throttled(load, 500), ctx.signal, () => every(3000, ctx.signal, load));
}

/** One task with its steps arriving live (from the event stream; polled where there is none). */
export async function taskView(main: HTMLElement, ctx: ViewContext, id: number): Promise<void> {
  const body = h('div');
  fill(main, h('p', {}, h('a', { href: '#/tasks' }, '← Tasks')), h('h1', {}, `Task ${id}`), body);
  let announced = '';
  const load = async () => {
    try {
      const task = await ctx.api.get<Task>(`/v1/tasks/${id}`, ctx.signal);
      render(body, task, ctx);
      if (FINISHED.has(task.state) && announced !== task.state) {
        announced = task.state;
        ctx.announce(`Task ${id} ${task.state === 'done' ? 'succeeded' : task.state}`);
      }
      return task;
    } catch (error) {
      if (!ctx.signal.aborted) fill(body, errorBox(error));
      return null;
    }
  };
  const first = await load();
  if (!first || FINISHED.has(first.state)) return;
  const refresh = throttled(load, 200);
  follow(ctx.api, `/v1/events?cluster=${encodeURIComponent(first.cluster_name)}`, refresh, ctx.signal, () =>
    every(1000, ctx.signal, load),
  );
  // A slow safety net: a step that finishes without an event still shows within a few seconds.
  every(5000, ctx.signal, load);
}

function render(body: HTMLElement, task: Task, ctx: ViewContext): void {
  const cancel =
    !FINISHED.has(task.state) && can(ctx.session, 'manage')
      ? h(
          'button',
          {
            type: 'button',
            class: 'secondary',
            onclick: () => void ctx.api.call('POST', `/v1/tasks/${task.id}/cancel`).catch(() => {}),
          },
          'Cancel task',
        )
      : null;
  fill(
    body,
    h(
      'p',
      { 'data-task-state': task.state },
      badge(task.state),
      ` ${task.type} of `,
      h('a', { href: `#/clusters/${encodeURIComponent(task.cluster_name)}` }, task.cluster_name),
      ` by ${task.user}: ${task.description}`,
    ),
    h('label', { for: 'task-progress' }, `Progress: ${task.progress.done} of ${task.progress.total} steps`),
    h('progress', { id: 'task-progress', max: task.progress.total || 1, value: task.progress.done }),
    cancel,
    task.error
      ? h(
          'div',
          { class: 'error', role: 'alert' },
          h('p', {}, `${task.error.code}: ${task.error.message}`),
          task.error.hint ? h('p', { class: 'hint' }, task.error.hint) : null,
        )
      : null,
    h('h2', {}, 'Steps'),
    h(
      'ol',
      { class: 'steps' },
      task.steps.map((s) =>
        h(
          'li',
          { 'data-step': s.name, 'data-state': s.state },
          badge(s.state),
          ` ${s.name}`,
          s.detail ? h('span', { class: 'detail' }, ` ${s.detail}`) : null,
        ),
      ),
    ),
    task.log?.length
      ? [
          h('h2', {}, 'Log'),
          h(
            'ol',
            { class: 'log' },
            task.log
              .slice(-50)
              .map((l) =>
                h('li', { class: l.level }, h('time', { datetime: l.at }, l.at.slice(11, 19)), ` ${l.message}`),
              ),
          ),
        ]
      : null,
  );
}
