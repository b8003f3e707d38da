import { execFile } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { promisify } from 'node:util';
import { SlipwayError } from '@slipway/contracts';

const run = promisify(execFile);

/**
 * One HAProxy in master-worker mode (`-W`), daemonized (`-D`) so it outlives the control plane: kubelets
 * talk to the VIP, not to Slipway. Its master's pid is in `pidFile`; a control plane that restarts adopts it
 * from there. A reload is SIGUSR2 to the master: it re-reads the config and starts new workers, while the
 * old ones finish the connections they hold (no dropped connection).
 */
export class HaproxyProcess {
  constructor(
    private readonly binary: string,
    readonly configFile: string,
    readonly pidFile: string,
  ) {}

  /** The master's pid when it runs and is this config's HAProxy (a recycled pid is not adopted). */
  pid(): number | undefined {
    if (!existsSync(this.pidFile)) return undefined;
    const pid = Number(readFileSync(this.pidFile, 'utf8').trim().split('\n')[0]);
    if (!Number.isInteger(pid) || pid <= 0) return undefined;
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      return cmdline.includes(this.configFile) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ')
        ? pid
        : undefined;
    } catch {
      return undefined;
    }
  }

  /** Checks the config with `haproxy -c`, so a bad one never reaches a running balancer. */
  async check(): Promise<void> {
    try {
      await run(this.binary, ['-c', '-q', '-f', this.configFile], { timeout: 10_000 });
    } catch (e) {
      throw this.failure('rejected its configuration', e);
    }
  }

  /** Starts it (daemonized; returns once it has bound the VIP) unless it runs; reloads it softly if it does. */
  async startOrReload(): Promise<'started' | 'reloaded'> {
    const pid = this.pid();
    if (pid !== undefined) {
      process.kill(pid, 'SIGUSR2');
      return 'reloaded';
    }
    try {
      await run(this.binary, ['-W', '-D', '-f', this.configFile, '-p', this.pidFile], { timeout: 10_000 });
    } catch (e) {
      throw this.failure('did not start', e);
    }
    return 'started';
  }

  /** Stops it (its workers end with it) and removes the pid file; nothing running is success. */
  async stop(): Promise<void> {
    const pid = this.pid();
    if (pid !== undefined) {
      process.kill(pid, 'SIGTERM');
      // Waited for by pid, not by this.pid(): an exiting process loses its cmdline before it is gone.
      if (!(await ended(pid, 5_000))) {
        // Still there: kill it, and return only once it is gone, so a caller never sees it outlive stop().
        process.kill(pid, 'SIGKILL');
        await ended(pid, 2_000);
      }
    }
    rmSync(this.pidFile, { force: true });
  }

  private failure(what: string, e: unknown): SlipwayError {
    const err = e as { code?: string; stderr?: string; message?: string };
    if (err.code === 'ENOENT') {
      return new SlipwayError('InvalidConfig', `the HAProxy binary ${this.binary} was not found`, {
        field: 'network.config.load_balancer.haproxy_binary',
        cause: e,
        hint: 'Install HAProxy (Debian: apt-get install haproxy) or set load_balancer.haproxy_binary.',
      });
    }
    const detail = (err.stderr ?? err.message ?? String(e))
      .trim()
      .split('\n')
      .filter((l) => /ALERT|error/i.test(l))
      .slice(0, 3)
      .join('; ');
    return new SlipwayError('CloudError', `HAProxy (${this.configFile}) ${what}: ${detail || err.message}`, {
      cause: e,
    });
  }
}

/** Each server's status (`UP`, `DOWN`, ...) from the stats socket's `show stat`, keyed by server name. */
export async function serverStatus(socketPath: string, timeoutMs = 1_000): Promise<Map<string, string>> {
  const text = await new Promise<string>((resolve, reject) => {
    const socket = connect(socketPath);
    let out = '';
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error('stats socket timed out')));
    socket.on('connect', () => socket.write('show stat\n'));
    socket.on('data', (d) => (out += d.toString()));
    socket.on('end', () => resolve(out));
    socket.on('error', reject);
  });
  const [header, ...rows] = text.trim().split('\n');
  const columns = (header ?? '').replace(/^# /, '').split(',');
  const name = columns.indexOf('svname');
  const status = columns.indexOf('status');
  const result = new Map<string, string>();
  for (const row of rows) {
    const cells = row.split(',');
    if (cells[0] === 'masters' && cells[name] !== 'BACKEND') result.set(cells[name]!, cells[status]!);
  }
  return result;
}

/** Waits up to `ms` for process `pid` to end (or be only a zombie); says whether it did. */
async function ended(pid: number, ms: number): Promise<boolean> {
  const done = () => {
    try {
      const state = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '')[0];
      return state === 'Z' || state === 'X';
    } catch {
      return true;
    }
  };
  for (const until = Date.now() + ms; Date.now() < until; await new Promise((r) => setTimeout(r, 50)))
    if (done()) return true;
  return done();
}
