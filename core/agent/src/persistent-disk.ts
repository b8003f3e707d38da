import { execFile } from 'node:child_process';
import {
  cp,
  lstat,
  mkdir,
  readdir,
  readFile,
  readlink,
  realpath,
  rename,
  stat,
  symlink,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { SlipwayError, type Clock, type DiskLocation, type Logger, type MetadataSource } from '@slipway/contracts';
import { sleepQuietly } from './system-clock.js';

/** Runs a system command (blkid, mkfs.ext4, mount); resolves with its exit code and output. */
export type CommandRunner = (
  command: string,
  args: string[],
) => Promise<{ code: number; stdout: string; stderr: string }>;

export const execCommand: CommandRunner = (command, args) =>
  new Promise((resolve) => {
    execFile(command, args, { timeout: 120_000 }, (error, stdout, stderr) => {
      const code = error
        ? typeof (error as { code?: unknown }).code === 'number'
          ? (error as { code: number }).code
          : 127
        : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr || (error && code === 127 ? error.message : '')) });
    });
  });

export interface PersistentDiskOptions {
  metadata: MetadataSource;
  /** Mount point (AgentPaths.storeDir). */
  storeDir: string;
  clock: Clock;
  logger: Logger;
  /** Where block devices are listed by id; default /dev/disk/by-id. */
  byIdDir?: string;
  run?: CommandRunner;
  /** How often to look again while the disk is not attached yet; default 1000 ms. */
  pollMs?: number;
}

/** Left on a grown disk once the old disk's content is on it (`.slipway-copied-from-disk-…`). */
export const COPY_MARKER = '.slipway-copied-from-';

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/**
 * Mounts the VM's persistent disk at the store directory, finding it by its cloud id: formats it once (only
 * when it has no filesystem, so a reattached disk keeps its data) and mounts it; a directory disk (the local
 * driver) is linked instead. Waits while the disk is not attached yet: the control plane attaches it after
 * the VM boots.
 */
export class PersistentDisk {
  private mounted: string | undefined;
  private readonly run: CommandRunner;

  constructor(private readonly options: PersistentDiskOptions) {
    this.run = options.run ?? execCommand;
  }

  /** The id of the disk mounted now, if any. */
  get mountedDiskId(): string | undefined {
    return this.mounted;
  }

  /**
   * `copyFrom`: a smaller disk attached beside this one (a disk grown on a cloud without resize), copied onto
   * this one once before it is mounted; a marker on the new disk keeps a later boot from copying again over
   * newer data.
   */
  async ensureMounted(diskId: string, signal: AbortSignal, options: { copyFrom?: string } = {}): Promise<string> {
    if (this.mounted === diskId) return this.options.storeDir;
    let waitingLogged = false;
    for (;;) {
      if (signal.aborted) throw new SlipwayError('Cancelled', `stopped while waiting for persistent disk ${diskId}`);
      const location = await this.locate(diskId, signal);
      const source = location && options.copyFrom ? await this.locate(options.copyFrom, signal) : undefined;
      if (location && (!options.copyFrom || source)) {
        if (source && options.copyFrom) await this.copyOnce(options.copyFrom, source, diskId, location);
        await this.mount(location);
        this.mounted = diskId;
        this.options.logger.info('persistent disk mounted', {
          diskId,
          at: this.options.storeDir,
          from: location.path,
          kind: location.kind,
        });
        return this.options.storeDir;
      }
      if (!waitingLogged) this.options.logger.info('waiting for the persistent disk to be attached', { diskId });
      waitingLogged = true;
      await sleepQuietly(this.options.clock, this.options.pollMs ?? 1_000, signal);
    }
  }

  private async copyOnce(fromId: string, from: DiskLocation, toId: string, to: DiskLocation): Promise<void> {
    const marker = `${COPY_MARKER}${fromId}`;
    if (from.kind !== to.kind)
      throw new SlipwayError('DiskError', `cannot copy disk ${fromId} (${from.kind}) onto disk ${toId} (${to.kind})`);
    if (to.kind === 'directory') {
      if (await exists(join(to.path, marker))) return;
      this.options.logger.info('copying the old persistent disk onto the grown one', { from: fromId, to: toId });
      await cp(from.path, to.path, { recursive: true, force: true, verbatimSymlinks: true, preserveTimestamps: true });
      await writeFile(join(to.path, marker), `${new Date(this.options.clock.now()).toISOString()}\n`);
      this.options.logger.info('persistent disk copied', { from: fromId, to: toId });
      return;
    }
    // Block devices: the new one formatted and mounted at the store, the old one read-only beside it.
    await this.mountDevice(to.path, this.options.storeDir);
    if (await exists(join(this.options.storeDir, marker))) return;
    const staging = `${this.options.storeDir}.copy-from`;
    await mkdir(staging, { recursive: true, mode: 0o700 });
    const ro = await this.run('mount', ['-o', 'ro,noatime', await realpath(from.path).catch(() => from.path), staging]);
    if (ro.code !== 0)
      throw new SlipwayError(
        'DiskError',
        `mount ${from.path} ${staging} (read-only, to copy from) failed: ${ro.stderr.trim()}`,
      );
    try {
      const copied = await this.run('cp', ['-a', `${staging}/.`, `${this.options.storeDir}/`]);
      if (copied.code !== 0)
        throw new SlipwayError('DiskError', `copying disk ${fromId} onto ${toId} failed: ${copied.stderr.trim()}`);
      await writeFile(join(this.options.storeDir, marker), `${new Date(this.options.clock.now()).toISOString()}\n`);
    } finally {
      await this.run('umount', [staging]);
    }
  }

  private async locate(diskId: string, signal: AbortSignal): Promise<DiskLocation | undefined> {
    if (this.options.metadata.locateDisk) return this.options.metadata.locateDisk(diskId, signal);
    const device = await findDeviceById(this.options.byIdDir ?? '/dev/disk/by-id', diskId);
    return device ? { kind: 'device', path: device } : undefined;
  }

  private async mount(location: DiskLocation): Promise<void> {
    const store = this.options.storeDir;
    switch (location.kind) {
      case 'directory':
        return linkDirectory(location.path, store);
      case 'device':
        return this.mountDevice(location.path, store);
    }
  }

  private async mountDevice(device: string, store: string): Promise<void> {
    const mounts = await readFile('/proc/mounts', 'utf8').catch(() => '');
    const real = await realpath(device).catch(() => device);
    if (
      mounts.split('\n').some((line) => {
        const [source, target] = line.split(' ');
        return target === store && (source === device || source === real);
      })
    )
      return;
    const probe = await this.run('blkid', ['-o', 'value', '-s', 'TYPE', real]);
    // blkid exits 2 when it finds no filesystem: a new disk. Any other failure must not lead to mkfs.
    if (probe.code === 2 || (probe.code === 0 && probe.stdout.trim() === '')) {
      this.options.logger.info('formatting the new persistent disk', { device: real });
      const made = await this.run('mkfs.ext4', ['-q', '-L', 'slipway-store', real]);
      if (made.code !== 0) throw new SlipwayError('DiskError', `mkfs.ext4 ${real} failed: ${made.stderr.trim()}`);
    } else if (probe.code !== 0) {
      throw new SlipwayError('DiskError', `blkid ${real} failed (${probe.code}): ${probe.stderr.trim()}`);
    }
    await mkdir(store, { recursive: true, mode: 0o755 });
    const mounted = await this.run('mount', ['-o', 'defaults,noatime', real, store]);
    if (mounted.code !== 0)
      throw new SlipwayError('DiskError', `mount ${real} ${store} failed: ${mounted.stderr.trim()}`);
    // A disk the cloud grew in place (resizeDisk) keeps its old filesystem size until it is grown too; ext4
    // grows online, and on a disk of the same size this does nothing.
    const grown = await this.run('resize2fs', [real]);
    if (grown.code !== 0)
      this.options.logger.warn('resize2fs of the persistent disk failed; it keeps its filesystem size', {
        device: real,
        error: grown.stderr.trim(),
      });
  }
}

/**
 * The device of a cloud disk under /dev/disk/by-id: AWS names NVMe volumes `nvme-Amazon_Elastic_Block_Store_vol0123…`
 * (the id without its dash), GCE `google-{disk name}`, OpenStack virtio `virtio-{first 20 characters of the id}`.
 */
export async function findDeviceById(byIdDir: string, diskId: string): Promise<string | undefined> {
  let entries: string[];
  try {
    entries = await readdir(byIdDir);
  } catch {
    return undefined;
  }
  const keys = [...new Set([diskId, diskId.replace(/-/g, ''), diskId.slice(0, 20)])].filter((k) => k.length >= 6);
  const match = entries
    .filter((e) => !/-part\d+$/.test(e))
    .find((entry) => keys.some((key) => entry.endsWith(key) || entry.endsWith(`_${key}`) || entry.includes(`-${key}`)));
  return match ? realpath(join(byIdDir, match)).catch(() => join(byIdDir, match)) : undefined;
}

/** Points the store directory at a directory disk, replacing a link to another disk. */
async function linkDirectory(target: string, store: string): Promise<void> {
  await mkdir(dirname(store), { recursive: true, mode: 0o755 });
  const existing = await lstat(store).catch(() => undefined);
  if (existing?.isSymbolicLink() && (await readlink(store)) === target) return;
  if (existing && !existing.isSymbolicLink()) {
    throw new SlipwayError('DiskError', `${store} exists and is not a link to a disk; refusing to hide its content`);
  }
  const temp = `${store}.${process.pid}.link`;
  await unlink(temp).catch(() => undefined);
  await symlink(target, temp, 'dir');
  await rename(temp, store);
}
