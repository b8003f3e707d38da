import { Api, loadSession, login, logout, saveSession, type Session } from './api.js';
import { fill, h } from './dom.js';
import type { ViewContext } from './types.js';
import { clusterView } from './views/cluster.js';
import { clustersView } from './views/clusters.js';
import { fleetView } from './views/fleet.js';
import { errorBox, field } from './views/shared.js';
import { taskView, tasksView } from './views/tasks.js';
import { usagesView } from './views/usages.js';

const main = document.getElementById('main')!;
const nav = document.getElementById('nav')!;
const who = document.getElementById('who')!;
const live = document.getElementById('live')!;

const NAV = [
  ['#/clusters', 'Clusters'],
  ['#/tasks', 'Tasks'],
  ['#/fleet', 'Fleet upgrades'],
  ['#/usages', 'Usages'],
] as const;

let current: AbortController | null = null;
let session = loadSession();

function announce(text: string): void {
  live.textContent = text;
}

function showLogin(message?: string): void {
  current?.abort();
  fill(nav);
  fill(who);
  const user = h('input', { name: 'username', autocomplete: 'username', required: true });
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const status = h('div', { 'aria-live': 'assertive' }, message ? h('p', { class: 'hint' }, message) : null);
  const form = h(
    'form',
    { class: 'card login', 'aria-label': 'Log in' },
    h('h1', {}, 'Log in to Slipway'),
    field('User', user),
    field('Password', password),
    h('button', { type: 'submit' }, 'Log in'),
    status,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    fill(status);
    try {
      session = await login(user.value.trim(), password.value);
      saveSession(session);
      password.value = '';
      if (!location.hash || location.hash === '#/login') location.hash = '#/clusters';
      route();
    } catch (error) {
      fill(status, errorBox(error));
      password.focus();
    }
  });
  fill(main, form);
  user.focus();
}

function signedIn(active: Session): void {
  fill(
    nav,
    h(
      'ul',
      {},
      NAV.map(([href, label]) =>
        h('li', {}, h('a', { href, 'aria-current': location.hash.startsWith(href) ? 'page' : null }, label)),
      ),
    ),
  );
  fill(
    who,
    h('span', {}, `${active.user} (${active.roles.join(', ')})`),
    ' ',
    h(
      'button',
      {
        type: 'button',
        class: 'secondary',
        onclick: async () => {
          await logout(active);
          session = null;
          saveSession(null);
          showLogin('You are logged out.');
        },
      },
      'Log out',
    ),
  );
}

/** Hash routes: #/clusters, #/clusters/NAME, #/tasks, #/tasks/ID, #/fleet, #/usages. */
function route(): void {
  if (!session) {
    showLogin();
    return;
  }
  current?.abort();
  current = new AbortController();
  const api = new Api(session);
  api.onUnauthenticated = () => {
    session = null;
    saveSession(null);
    showLogin('Your session ended; log in again.');
  };
  const ctx: ViewContext = {
    api,
    session,
    announce,
    signal: current.signal,
    go: (hash) => {
      location.hash = hash;
    },
  };
  signedIn(session);
  const [, section, id] = (location.hash || '#/clusters').split('/');
  const view =
    section === 'clusters' && id
      ? clusterView(main, ctx, decodeURIComponent(id))
      : section === 'tasks' && id
        ? taskView(main, ctx, Number(id))
        : section === 'tasks'
          ? tasksView(main, ctx)
          : section === 'fleet'
            ? fleetView(main, ctx)
            : section === 'usages'
              ? usagesView(main, ctx)
              : clustersView(main, ctx);
  void view
    .catch((error: unknown) => {
      if (!ctx.signal.aborted) fill(main, errorBox(error));
    })
    .then(() => {
      // Focus moves to the new page's heading so keyboard and screen-reader users land on it.
      if (ctx.signal.aborted) return;
      const heading = main.querySelector('h1');
      if (heading) {
        heading.setAttribute('tabindex', '-1');
        heading.focus({ preventScroll: true });
      }
    });
}

window.addEventListener('hashchange', route);
route();
