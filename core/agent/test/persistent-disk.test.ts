import { mkdirSync, mkdtempSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createQuietLogger } from '@slipway/testkit/simulation';
import { FileMetadataSource, findDeviceById, PersistentDisk, systemClock, type CommandRunner } from '../src/index.js';

describe('persistent disk', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'disk-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('finds a cloud volume under /dev/disk/by-id by the id each cloud gives it', async () => {
    const byId = join(dir, 'by-id');
    mkdirSync(byId);
    for (const [name, target] of [
      ['nvme-Amazon_Elastic_Block_Store_vol0abc123def4567890', 'nvme1n1'],
      ['nvme-Amazon_Elastic_Block_Store_vol0abc123def4567890-part1', 'nvme1n1p1'],
      ['virtio-6f1c2a9e-5b1d-4c1e-9', 'vdb'],
      ['google-disk-7f3a', 'sdb'],
    ]) {
      writeFileSync(join(dir, target!), '');
      symlinkSync(join(dir, target!), join(byId, name!));
    }
    expect(await findDeviceById(byId, 'vol-0abc123def4567890')).toBe(join(dir, 'nvme1n1'));
    expect(await findDeviceById(byId, '6f1c2a9e-5b1d-4c1e-9a57-51a9e0b0c0de')).toBe(join(dir, 'vdb'));
    expect(await findDeviceById(byId, 'disk-7f3a')).toBe(join(dir, 'sdb'));
    expect(await findDeviceById(byId, 'vol-0000000000000000')).toBeUndefined();
  });

  it('formats a new device once, and mounts a device that has a filesystem without formatting it', async () => {
    const calls: string[] = [];
    const device = join(dir, 'dev-new');
    writeFileSync(device, '');
    let formatted = false;
    const run: CommandRunner = async (command, args) => {
      calls.push(`${command} ${args.join(' ')}`);
      // blkid exits 2 when the device has no filesystem.
      if (command === 'blkid')
        return formatted ? { code: 0, stdout: 'ext4\n', stderr: '' } : { code: 2, stdout: '', stderr: '' };
      if (command === 'mkfs.ext4') formatted = true;
      return { code: 0, stdout: '', stderr: '' };
    };
    const metadata = {
      kind: 'test',
      readSettings: async () => ({}) as never,
      locateDisk: async () => ({ kind: 'device' as const, path: device }),
    };
    const disk = () =>
      new PersistentDisk({
        metadata,
        storeDir: join(dir, 'store'),
        clock: systemClock,
        logger: createQuietLogger(),
        run,
      });
    await disk().ensureMounted('vol-1', new AbortController().signal);
    await disk().ensureMounted('vol-1', new AbortController().signal);
    expect(
      calls.filter((c) => c.startsWith('mkfs.ext4')),
      'formatted once',
    ).toHaveLength(1);
    expect(calls.filter((c) => c.startsWith('mount'))).toHaveLength(2);
  });

  it('links a directory disk once the driver says it is attached, waiting until then', async () => {
    const meta = join(dir, 'meta-data.json');
    const diskDir = join(dir, 'disk-a');
    mkdirSync(diskDir);
    writeFileSync(meta, JSON.stringify({ disks: {} }));
    const metadata = new FileMetadataSource(join(dir, 'user-data.json'), meta);
    const store = join(dir, 'fs', 'var', 'lib', 'slipway', 'store');
    const disk = new PersistentDisk({
      metadata,
      storeDir: store,
      clock: systemClock,
      logger: createQuietLogger(),
      pollMs: 20,
    });
    const mounting = disk.ensureMounted('disk-a', new AbortController().signal);
    await new Promise((r) => setTimeout(r, 100));
    expect(disk.mountedDiskId).toBeUndefined();
    writeFileSync(meta, JSON.stringify({ disks: { 'disk-a': { kind: 'directory', path: diskDir } } }));
    await mounting;
    expect(readlinkSync(store)).toBe(diskDir);
    expect(disk.mountedDiskId).toBe('disk-a');
  });
});
