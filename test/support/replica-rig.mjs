// Control plane replicas as a user runs them: `slipway up` processes on one PostgreSQL database, each on its
// own loopback port, a TCP balancer in front (what HAProxy is in docs/ha.md: agents dial it and reach any live
// replica), and a fake cloud in a process of its own. Shared by the failover test and bench/replicas.mjs.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../core/cli/dist/main.js', import.meta.url));
const CLOUD = fileURLToPath(new URL('./cloud-process.mjs', import.meta.url));

export async function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Reads lines of a child's stdout until `match` returns something. */
function awaitLine(child, match, what, timeoutMs = 60_000) {
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} not ready in ${timeoutMs} ms:\n${out}`)), timeoutMs);
    const onData = (chunk) => {
      out += chunk;
      const found = match(out);
      if (found !== undefined) {
        clearTimeout(timer);
        child.stdout.off('data', onData);
        resolve(found);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (c) => {
      out += c;
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited ${code} before it was ready:\n${out}`));
    });
  });
}

/** The fake cloud in its own process; `inventory()` is what it holds now. */
export async function startCloud(options = {}) {
  const child = spawn(process.execPath, [CLOUD, JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const info = await awaitLine(
    child,
    (out) => {
      const line = out.split('\n').find((l) => l.startsWith('{'));
      return line && out.includes('\n') ? JSON.parse(line) : undefined;
    },
    'the fake cloud',
  );
  return {
    ...info,
    async inventory() {
      const res = await fetch(info.inventoryUrl);
      return res.json();
    },
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
    },
  };
}

/** A TCP balancer on 127.0.0.1: each connection goes to a live backend, the next one on a refusal. */
export async function startBalancer() {
  let backends = [];
  let turn = 0;
  const sockets = new Set();
  const server = createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.pause();
    const tryNext = (left) => {
      if (!left || !backends.length) return client.destroy();
      const port = backends[turn++ % backends.length];
      const upstream = connect(port, '127.0.0.1');
      let connected = false;
      upstream.once('connect', () => {
        connected = true;
        sockets.add(upstream);
        upstream.on('close', () => sockets.delete(upstream));
        client.pipe(upstream).pipe(client);
        client.resume();
        client.on('error', () => upstream.destroy());
      });
      upstream.on('error', () => (connected ? client.destroy() : tryNext(left - 1)));
    };
    tryNext(backends.length * 2);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: server.address().port,
    setBackends(ports) {
      backends = [...ports];
    },
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

/** One `slipway up`: `start()` again after `crash()` is a new process (a new replica id) on the same port. */
export class Replica {
  constructor(name, { root, configPath, password, port, env = {} }) {
    this.name = name;
    this.home = join(root, name);
    mkdirSync(this.home, { recursive: true, mode: 0o700 });
    this.configPath = configPath;
    this.password = password;
    this.port = port;
    this.env = env;
    this.child = undefined;
    this.log = '';
  }

  get pid() {
    return this.child?.pid;
  }
  /** Started, ready, and not dead since. */
  get alive() {
    return Boolean(this.ready && this.child && this.child.exitCode === null && this.child.signalCode === null);
  }
  get url() {
    return `https://127.0.0.1:${this.port}`;
  }

  async start() {
    this.ready = false;
    const child = spawn(
      process.execPath,
      [CLI, 'up', '--home', this.home, '--port', String(this.port), '--config', this.configPath],
      {
        env: {
          ...process.env,
          ...this.env,
          SLIPWAY_ADMIN_PASSWORD: this.password,
          SLIPWAY_HOME: '',
          SLIPWAY_CONFIG: '',
          SLIPWAY_PORT: '',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    this.child = child;
    child.stdout.on('data', (c) => {
      this.log += c;
    });
    child.stderr.on('data', (c) => {
      this.log += c;
    });
    this.exited = new Promise((r) => child.once('exit', r));
    await awaitLine(
      child,
      (out) => (/Slipway is ready at https:\/\/\S+/.test(out) ? true : undefined),
      `replica ${this.name}`,
      90_000,
    );
    this.ready = true;
    return this;
  }

  /** kill -9: nothing runs, nothing is released; its leases lapse on their own. */
  async crash() {
    this.child?.kill('SIGKILL');
    await this.exited;
  }

  async stop() {
    if (!this.alive) return;
    this.child.kill('SIGTERM');
    await this.exited;
  }

  api() {
    return apiClient(this.url, readFileSync(join(this.home, 'ca.pem'), 'utf8'));
  }
}

/** A small HTTPS client for the API that trusts the control plane's CA. */
export function apiClient(url, ca) {
  const u = new URL(url);
  const call = (method, path, opts = {}) =>
    new Promise((resolve, reject) => {
      const headers = {};
      let payload;
      if (opts.form) {
        payload = new URLSearchParams(opts.form).toString();
        headers['content-type'] = 'application/x-www-form-urlencoded';
      } else if (opts.body !== undefined) {
        payload = JSON.stringify(opts.body);
        headers['content-type'] = 'application/json';
      }
      if (opts.token) headers.authorization = `Bearer ${opts.token}`;
      const req = request(
        { host: u.hostname, port: u.port, path, method, headers, ca, agent: false, timeout: 30_000 },
        (res) => {
          let text = '';
          res.on('data', (c) => {
            text += c;
          });
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              body: text && (res.headers['content-type'] ?? '').includes('json') ? JSON.parse(text) : text,
            }),
          );
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
      req.on('error', reject);
      req.end(payload);
    });
  return {
    call,
    async login(username, password) {
      const res = await call('POST', '/oauth/token', { form: { grant_type: 'password', username, password } });
      if (res.status !== 200) throw new Error(`login failed: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body.access_token;
    },
  };
}

/** slipway.yaml for the replicas: one PostgreSQL store, one fake cloud, agents dialing the balancer. */
export function writeReplicaConfig(path, { storeUrl, cloud, balancerPort, replicas, heartbeatSeconds = 1 }) {
  const vm = {
    cpu: 2,
    memory_mb: 4096,
    ephemeral_disk_mb: 16384,
    persistent_disk_mb: 10240,
    instance_type: 'm1.medium',
  };
  writeFileSync(
    path,
    JSON.stringify(
      {
        store: { url: storeUrl },
        api: { advertise_url: `https://127.0.0.1:${balancerPort}` },
        iaas: [
          {
            name: 'lab',
            plugin: '@slipway/iaas-openstack',
            version: '^1',
            config: cloud.config,
            stemcell_cloud_properties: { image_id: cloud.imageId },
          },
        ],
        network: { plugin: '@slipway/network-flat', config: { ranges: { lab: { cidr: '10.60.0.0/22' } } } },
        // Every replica decrypts what another wrote: one key, given to each through the environment.
        credentials: {
          plugin: '@slipway/credentials-credhub',
          config: { encryption: { keys: [{ key_env: 'SLIPWAY_REPLICAS_KEK', active: true }] } },
        },
        agents: { heartbeat_interval_seconds: heartbeatSeconds, boot_timeout_seconds: 120 },
        replicas,
        plans: [
          {
            name: 'small',
            iaas: 'lab',
            master_instances: 1,
            worker_instances: 1,
            max_worker_instances: 4,
            master_vm: vm,
            worker_vm: vm,
          },
        ],
      },
      null,
      2,
    ),
  );
}
