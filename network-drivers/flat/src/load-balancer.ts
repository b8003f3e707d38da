import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { assertNever, type ApiEndpoint, type Logger } from '@slipway/contracts';
import type { LoadBalancerConfig } from './config.js';
import { renderHaproxyConfig, type ApiLoadBalancerSpec } from './haproxy-config.js';
import { HaproxyProcess, serverStatus } from './haproxy-process.js';

export const DEFAULT_HAPROXY_BINARY = '/usr/sbin/haproxy';
export const DEFAULT_HEALTH_CHECK_INTERVAL_MS = 2_000;

/** A cluster's VIP as the driver's state keeps it. */
export interface VipRecord {
  address: string;
  port: number;
  members: string[];
  memberPort: number;
}

/** Where a cluster's API load balancer lives: HAProxy managed here, a config for an external LB, or nothing. */
export interface ApiLoadBalancer {
  /** Makes the balancer of `clusterId` match `vip` (writes its config; starts or reloads HAProxy). */
  apply(clusterId: string, vip: VipRecord): Promise<ApiEndpoint>;
  /** Removes the cluster's balancer (process, config, pid file); nothing there is success. */
  remove(clusterId: string): Promise<void>;
  /** The objects it keeps for a cluster, for leftover checks. */
  objects(clusterId: string): Array<{ kind: string; id: string }>;
  /** Stops a managed balancer's process, keeping its config (a shutdown, not a teardown). */
  stop(clusterId: string): Promise<void>;
  /** False when a managed balancer should run and does not (the driver's supervision restarts it). */
  running(clusterId: string): boolean;
}

export function createApiLoadBalancer(
  config: LoadBalancerConfig,
  dataDir: string,
  logger: Logger,
): ApiLoadBalancer | undefined {
  const interval = config.health_check_interval_ms ?? DEFAULT_HEALTH_CHECK_INTERVAL_MS;
  switch (config.mode) {
    case 'none':
      return undefined;
    case 'haproxy':
      return new ManagedHaproxy(join(dataDir, 'lb'), config.haproxy_binary ?? DEFAULT_HAPROXY_BINARY, interval, logger);
    case 'external':
      return new ExternalConfigWriter(config.config_dir ?? join(dataDir, 'lb'), interval);
    default:
      return assertNever(config.mode, 'load_balancer.mode');
  }
}

/** Writes a file atomically; returns whether its content changed. */
function writeIfChanged(file: string, text: string): boolean {
  if (existsSync(file) && readFileSync(file, 'utf8') === text) return false;
  writeFileSync(`${file}.tmp`, text, { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
  return true;
}

function spec(clusterId: string, vip: VipRecord, interval: number, statsSocket?: string): ApiLoadBalancerSpec {
  return {
    clusterId,
    vip: vip.address,
    port: vip.port,
    members: vip.members,
    memberPort: vip.memberPort,
    healthCheckIntervalMs: interval,
    statsSocket,
  };
}

/** `external`: the config an operator's HAProxy loads; the members' health is the operator's LB's to know. */
class ExternalConfigWriter implements ApiLoadBalancer {
  constructor(
    private readonly dir: string,
    private readonly interval: number,
  ) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  async apply(clusterId: string, vip: VipRecord): Promise<ApiEndpoint> {
    writeIfChanged(join(this.dir, `${clusterId}.cfg`), renderHaproxyConfig(spec(clusterId, vip, this.interval)));
    return { address: vip.address, loadBalanced: true, members: vip.members.map((address) => ({ address })) };
  }

  async remove(clusterId: string): Promise<void> {
    rmSync(join(this.dir, `${clusterId}.cfg`), { force: true });
  }

  objects(clusterId: string): Array<{ kind: string; id: string }> {
    const file = join(this.dir, `${clusterId}.cfg`);
    return existsSync(file) ? [{ kind: 'lb-config', id: file }] : [];
  }

  running(): boolean {
    return true;
  }

  async stop(): Promise<void> {}
}

/** `haproxy`: one daemonized HAProxy per cluster, supervised, adopted after a restart from its pid file. */
class ManagedHaproxy implements ApiLoadBalancer {
  constructor(
    private readonly dir: string,
    private readonly binary: string,
    private readonly interval: number,
    private readonly logger: Logger,
  ) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  private files(clusterId: string) {
    // The stats socket's path must fit sockaddr_un (108 bytes): a short name in the driver's directory.
    return {
      config: join(this.dir, `${clusterId}.cfg`),
      pid: join(this.dir, `${clusterId}.pid`),
      socket: join(this.dir, `${clusterId.slice(0, 8)}.sock`),
    };
  }

  private process(clusterId: string): HaproxyProcess {
    const f = this.files(clusterId);
    return new HaproxyProcess(this.binary, f.config, f.pid);
  }

  async apply(clusterId: string, vip: VipRecord): Promise<ApiEndpoint> {
    const f = this.files(clusterId);
    const haproxy = this.process(clusterId);
    const previous = existsSync(f.config) ? readFileSync(f.config, 'utf8') : undefined;
    const text = renderHaproxyConfig(spec(clusterId, vip, this.interval, f.socket));
    if (text !== previous || haproxy.pid() === undefined) {
      writeFileSync(`${f.config}.new`, text, { mode: 0o600 });
      const candidate = new HaproxyProcess(this.binary, `${f.config}.new`, f.pid);
      try {
        await candidate.check();
      } catch (e) {
        // A config HAProxy rejects never replaces the one the running balancer uses.
        rmSync(`${f.config}.new`, { force: true });
        throw e;
      }
      renameSync(`${f.config}.new`, f.config);
      const outcome = await haproxy.startOrReload();
      this.logger.info(`API load balancer of cluster ${clusterId} ${outcome}`, {
        vip: vip.address,
        members: vip.members,
      });
      if (outcome === 'reloaded') await this.waitForMembers(f.socket, vip.members);
    }
    return { address: vip.address, loadBalanced: true, members: await this.members(f.socket, vip.members) };
  }

  async remove(clusterId: string): Promise<void> {
    const f = this.files(clusterId);
    await this.process(clusterId).stop();
    for (const file of [f.config, `${f.config}.new`, f.socket]) rmSync(file, { force: true });
  }

  objects(clusterId: string): Array<{ kind: string; id: string }> {
    const f = this.files(clusterId);
    const pid = this.process(clusterId).pid();
    return [
      ...(existsSync(f.config) ? [{ kind: 'lb-config', id: f.config }] : []),
      ...(pid !== undefined ? [{ kind: 'haproxy-process', id: String(pid) }] : []),
    ];
  }

  running(clusterId: string): boolean {
    return this.process(clusterId).pid() !== undefined;
  }

  async stop(clusterId: string): Promise<void> {
    await this.process(clusterId).stop();
  }

  /** Each member with the health HAProxy last saw, where its stats socket answers. */
  private async members(socket: string, members: string[]): Promise<ApiEndpoint['members']> {
    const status = await serverStatus(socket).catch(() => new Map<string, string>());
    return members.map((address) => {
      const s = status.get(`m_${address}`);
      return s === undefined ? { address } : { address, healthy: s.startsWith('UP') };
    });
  }

  /** After a reload, until the new worker serves the new member list (the old one drains its connections). */
  private async waitForMembers(socket: string, members: string[]): Promise<void> {
    const want = members
      .map((a) => `m_${a}`)
      .sort()
      .join(',');
    for (let i = 0; i < 40; i++) {
      const status = await serverStatus(socket).catch(() => new Map<string, string>());
      if ([...status.keys()].sort().join(',') === want) return;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
