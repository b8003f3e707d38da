import { createHash, randomBytes } from 'node:crypto';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execCommand, type CommandRunner } from '@slipway/agent';
import type { Logger } from '@slipway/contracts';
import { localError } from './errors.js';
import { rootDigest } from './machine.js';

/**
 * Local VMs with a network stack of their own: each VM in a network namespace, joined to a bridge in the
 * host's namespace by a veth pair, with an address from the driver's subnet, so that VMs route to each other
 * for real (pod routes, host firewalls, addresses that are not 127.x). Needs root and `ip netns`; machines
 * without them keep loopback addresses (see `namespaceSupport`).
 *
 * Every name derives from the driver's root, so two drivers (two test runs) on one machine never share a
 * bridge, a veth or a namespace: `slwb` + digest (bridge), `slwv` + digest (a VM's host-side veth),
 * `slipway-<digest>-<vm id>` (namespace).
 */
export class VmNetworks {
  readonly bridge: string;
  /** The host's address on the bridge (the subnet's first address): the VMs' gateway. */
  readonly hostAddress: string;
  private readonly prefix: number;
  private readonly base: number;
  private bridgeReady = false;
  private readonly relays = new Map<string, { server: Server; socket: string; connections: Set<Socket> }>();

  constructor(
    private readonly root: string,
    readonly subnet: string,
    private readonly logger: Logger,
    private readonly run: CommandRunner = execCommand,
  ) {
    const parsed = parseCidr(subnet);
    if (!parsed || parsed.bits > 29)
      throw localError(
        'InvalidConfig',
        `network_subnet ${JSON.stringify(subnet)} is not an IPv4 CIDR of /29 or larger`,
        'Set network_subnet to a private range such as 10.253.0.0/24.',
      );
    this.prefix = parsed.bits;
    this.base = parsed.base;
    this.bridge = `slwb${rootDigest(root).slice(0, 11)}`;
    this.hostAddress = toIp(this.base + 1);
  }

  /** The namespace of a VM. */
  namespaceOf(vmId: string): string {
    return `slipway-${rootDigest(this.root)}-${vmId}`;
  }

  /** Whether `ip` is in the subnet and may be a VM's (not the network, broadcast or host address). */
  holds(ip: string): boolean {
    const value = toInt(ip);
    const size = 2 ** (32 - this.prefix);
    return value !== undefined && value > this.base + 1 && value < this.base + size - 1;
  }

  /** A free VM address of the subnet. */
  pick(inUse: ReadonlySet<string>): string {
    const size = 2 ** (32 - this.prefix);
    for (let offset = 2; offset < size - 1; offset++) {
      const ip = toIp(this.base + offset);
      if (!inUse.has(ip)) return ip;
    }
    throw localError(
      'CapacityExhausted',
      `no free address left in network_subnet ${this.subnet}`,
      'Widen network_subnet in the local driver config, or delete VMs.',
    );
  }

  /** Makes the bridge with the host's address (idempotent); refuses a subnet another interface of the host routes. */
  async ensureBridge(): Promise<void> {
    // Once made by this driver, it stays until removeBridge: no need to ask again for every VM.
    if (this.bridgeReady && (await this.run('ip', ['link', 'show', 'dev', this.bridge])).code === 0) return;
    if ((await this.run('ip', ['link', 'show', 'dev', this.bridge])).code !== 0) {
      const routed = JSON.parse(
        (await this.ip(['-4', '-j', 'route', 'show', 'table', 'main', 'exact', this.subnet])).trim() || '[]',
      ) as Array<{ dev?: string }>;
      if (routed.some((r) => r.dev && r.dev !== this.bridge)) {
        throw localError(
          'Conflict',
          `network_subnet ${this.subnet} is already routed on this machine (dev ${routed[0]!.dev})`,
          'Pick another network_subnet for the local driver (and the same range for its network).',
        );
      }
      await this.ip(['link', 'add', this.bridge, 'type', 'bridge']);
    }
    await this.ip(['addr', 'replace', `${this.hostAddress}/${this.prefix}`, 'dev', this.bridge]);
    await this.ip(['link', 'set', this.bridge, 'up']);
    this.bridgeReady = true;
  }

  /** Gives a VM its namespace, veth pair and address (idempotent: a VM booted again finds them as they were). */
  async attach(vmId: string, ip: string): Promise<void> {
    await this.ensureBridge();
    const ns = this.namespaceOf(vmId);
    const hostSide = this.hostVeth(vmId);
    if (!existsSync(`/run/netns/${ns}`)) await this.ip(['netns', 'add', ns]);
    if ((await this.run('ip', ['-n', ns, 'link', 'show', 'dev', 'eth0'])).code !== 0) {
      await this.run('ip', ['link', 'del', hostSide]);
      await this.ip(['link', 'add', hostSide, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
    }
    // Batches: one `ip` process for each side instead of one for each change (each spawn costs ~100 ms here).
    await this.batch([], [`link set ${hostSide} master ${this.bridge}`, `link set ${hostSide} up`]);
    await this.batch(
      ['-n', ns],
      [
        'link set lo up',
        `addr replace ${ip}/${this.prefix} dev eth0`,
        'link set eth0 up',
        `route replace default via ${this.hostAddress}`,
      ],
    );
  }

  /** Removes a VM's namespace; its veth pair goes with it. Idempotent. */
  async detach(vmId: string): Promise<void> {
    await this.closeRelay(vmId);
    const ns = this.namespaceOf(vmId);
    if (existsSync(`/run/netns/${ns}`)) await this.run('ip', ['netns', 'del', ns]);
    await this.run('ip', ['link', 'del', this.hostVeth(vmId)]);
  }

  /** Removes the bridge (every VM detached first). Idempotent. */
  async removeBridge(): Promise<void> {
    this.bridgeReady = false;
    if ((await this.run('ip', ['link', 'show', 'dev', this.bridge])).code === 0)
      await this.run('ip', ['link', 'del', this.bridge]);
  }

  /**
   * The host's end of a VM's way to a control plane on the host's loopback (`https://127.0.0.1:PORT`), which a
   * namespace cannot reach: a Unix socket (sockets on the filesystem cross network namespaces) relayed to
   * `target`. The VM's end, a relay listening on the VM's own 127.0.0.1:PORT, runs in the VM (`innerRelay`).
   */
  async openRelay(vmId: string, socket: string, target: { host: string; port: number }): Promise<void> {
    if (this.relays.has(vmId)) return;
    rmSync(socket, { force: true });
    const connections = new Set<Socket>();
    const server = createServer((client) => {
      const upstream = createConnection(target);
      connections.add(client);
      connections.add(upstream);
      client.pipe(upstream).pipe(client);
      const end = () => {
        client.destroy();
        upstream.destroy();
        connections.delete(client);
        connections.delete(upstream);
      };
      client.on('error', end).on('close', end);
      upstream.on('error', end).on('close', end);
    });
    await new Promise<void>((ok, fail) => server.once('error', fail).listen(socket, ok));
    server.unref();
    this.relays.set(vmId, { server, socket, connections });
  }

  async closeRelay(vmId: string): Promise<void> {
    const relay = this.relays.get(vmId);
    if (!relay) return;
    this.relays.delete(vmId);
    // Agents hold long polls open: close would wait for them without this.
    const closed = new Promise<void>((ok) => relay.server.close(() => ok()));
    for (const connection of relay.connections) connection.destroy();
    await closed;
    rmSync(relay.socket, { force: true });
  }

  async closeRelays(): Promise<void> {
    await Promise.all([...this.relays.keys()].map((id) => this.closeRelay(id)));
  }

  private hostVeth(vmId: string): string {
    return `slwv${createHash('sha256').update(`${this.root}\0${vmId}`).digest('hex').slice(0, 11)}`;
  }

  /** Runs `lines` as one `ip [global] -batch FILE`; fails on the first line that fails. */
  private async batch(global: string[], lines: string[]): Promise<void> {
    const dir = mkdtempSync(join(tmpdir(), 'slipway-ip-'));
    try {
      const file = join(dir, 'batch');
      writeFileSync(file, `${lines.join('\n')}\n`);
      await this.ip([...global, '-batch', file]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  private async ip(args: string[]): Promise<string> {
    const { code, stdout, stderr } = await this.run('ip', args);
    if (code !== 0)
      throw localError(
        'VmCreationFailed',
        `ip ${args.join(' ')}: ${stderr.trim() || `exit code ${code}`}`,
        'Check that this machine allows network namespaces (root, iproute2), or set network_namespaces: off.',
      );
    return stdout;
  }
}

/**
 * The VM's end of the control-plane relay, as `node -e` arguments: listens on the VM's own `host:port` and
 * carries each connection to the Unix socket of the host's end. Inline, so it runs the same from the sources
 * and the build.
 */
export function innerRelayArgs(listen: { host: string; port: number }, socket: string): string[] {
  const code = `const net=require('node:net');const [h,p,s]=process.argv.slice(1);net.createServer((c)=>{const u=net.createConnection(s);c.pipe(u).pipe(c);const e=()=>{c.destroy();u.destroy()};c.on('error',e);u.on('error',e)}).listen(Number(p),h);`;
  return ['-e', code, listen.host, String(listen.port), socket];
}

/** Whether this machine can give VMs namespaces: root, and `ip netns add` works (checked once, by doing it). */
export async function namespaceSupport(
  run: CommandRunner = execCommand,
): Promise<{ available: boolean; reason?: string }> {
  if (process.platform !== 'linux') return { available: false, reason: 'network namespaces are Linux only' };
  if (process.getuid?.() !== 0) return { available: false, reason: 'network namespaces need root' };
  const probe = `slipway-probe-${process.pid}-${randomBytes(3).toString('hex')}`;
  const added = await run('ip', ['netns', 'add', probe]);
  if (added.code !== 0)
    return { available: false, reason: `ip netns add failed: ${added.stderr.trim() || `exit code ${added.code}`}` };
  await run('ip', ['netns', 'del', probe]);
  return { available: true };
}

function parseCidr(cidr: string): { base: number; bits: number } | undefined {
  const [ip, bitsText] = cidr.split('/');
  const value = toInt(ip ?? '');
  const bits = Number(bitsText);
  if (value === undefined || !Number.isInteger(bits) || bits < 8 || bits > 32) return undefined;
  const size = 2 ** (32 - bits);
  return { base: value - (value % size), bits };
}

function toInt(ip: string): number | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return undefined;
  return parts.reduce((acc, p) => acc * 256 + Number(p), 0);
}

function toIp(value: number): string {
  return [
    Math.floor(value / 2 ** 24) % 256,
    Math.floor(value / 65536) % 256,
    Math.floor(value / 256) % 256,
    value % 256,
  ].join('.');
}
