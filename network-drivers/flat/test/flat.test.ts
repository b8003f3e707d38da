import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { NetworkDriver, PluginHost } from '@slipway/contracts';
import plugin from '../src/index.js';

const quiet = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return quiet;
  },
};
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'flat-'));
  dirs.push(d);
  return d;
}

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function open(config: object, dataDir = tempDir()): Promise<{ net: NetworkDriver; dataDir: string }> {
  const host: PluginHost = {
    logger: quiet,
    clock: { now: Date.now, sleep: async () => {} },
    dataDir,
    instanceName: 'default',
  };
  return { net: await plugin.create(config as never, host), dataDir };
}

describe('flat network', () => {
  it('gives each owner one address, the same one when asked again, never one twice', async () => {
    const { net } = await open({ ranges: { sandbox: { cidr: '10.1.0.0/22', reserved: ['10.1.0.2-10.1.0.9'] } } });
    const all = await Promise.all(
      Array.from({ length: 500 }, (_, i) =>
        net.allocateAddress({ clusterId: `c${i % 7}`, owner: `o${i}`, iaas: 'sandbox' }),
      ),
    );
    expect(new Set(all.map((a) => a.ip)).size).toBe(500);
    expect(all.some((a) => ['10.1.0.0', '10.1.0.1', '10.1.0.5', '10.1.3.255'].includes(a.ip))).toBe(false);
    const again = await net.allocateAddress({ clusterId: 'c3', owner: 'o3', iaas: 'sandbox' });
    expect(again.ip).toBe(all[3].ip);
    expect(again.netmask).toBe('255.255.252.0');
    expect(again.gateway).toBe('10.1.0.1');
  });

  it('reuses released addresses only after the never-used ones, and survives a restart', async () => {
    const { net, dataDir } = await open({ ranges: { sandbox: { cidr: '10.2.0.0/29' } } });
    const a = await net.allocateAddress({ clusterId: 'c', owner: 'a', iaas: 'sandbox' });
    await net.releaseAddress({ clusterId: 'c', owner: 'a' });
    const b = await net.allocateAddress({ clusterId: 'c', owner: 'b', iaas: 'sandbox' });
    expect(b.ip).not.toBe(a.ip);
    const { net: restarted } = await open({ ranges: { sandbox: { cidr: '10.2.0.0/29' } } }, dataDir);
    expect((await restarted.allocateAddress({ clusterId: 'c', owner: 'b', iaas: 'sandbox' })).ip).toBe(b.ip);
    // /29 has 6 hosts, one is the gateway: 5 usable; a and b used two, three remain, then a's comes back.
    const more = [];
    for (const o of ['c', 'd', 'e', 'f'])
      more.push((await restarted.allocateAddress({ clusterId: 'c', owner: o, iaas: 'sandbox' })).ip);
    expect(more[3]).toBe(a.ip);
    await expect(restarted.allocateAddress({ clusterId: 'c', owner: 'g', iaas: 'sandbox' })).rejects.toThrow(
      /no free address in 10.2.0.0\/29 \(IaaS target sandbox\)/,
    );
    await restarted.teardownCluster({ clusterId: 'c' });
    expect(await restarted.listAllocations({ clusterId: 'c' })).toEqual([]);
  });

  it('names the missing range of an IaaS target', async () => {
    const { net } = await open({ ranges: { aws: { cidr: '10.3.0.0/24' } } });
    await expect(net.allocateAddress({ clusterId: 'c', owner: 'a', iaas: 'gcp' })).rejects.toThrow(
      /no range for IaaS target "gcp"/,
    );
  });
});
