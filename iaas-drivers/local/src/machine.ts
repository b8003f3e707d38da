import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { isSameProcess, pidsWithEnv, readProcStat, signalGroup } from '@slipway/agent';
import type { AgentSettings, DiskLocation } from '@slipway/contracts';
import type { VmRecord } from './inventory.js';

/** Every process of a local VM carries this variable (inherited from its init): how its tree is found, even after reparenting. */
export const VM_MARKER = 'SLIPWAY_LOCAL_VM';

/** The marker value of a VM: the driver root's digest and the VM id, so two roots never match each other's VMs. */
export function vmMarker(root: string, vmId: string): string {
  return `${rootDigest(root)}/${vmId}`;
}

export function rootDigest(root: string): string {
  return createHash('sha256').update(resolve(root)).digest('hex').slice(0, 12);
}

/** The files of one VM: its directory is its ephemeral disk, `fs/` the root its agent writes under. */
export function vmLayout(
  root: string,
  vmId: string,
): { dir: string; fs: string; userData: string; metaData: string; console: string } {
  const dir = join(root, 'vms', vmId);
  return {
    dir,
    fs: join(dir, 'fs'),
    userData: join(dir, 'user-data.json'),
    metaData: join(dir, 'meta-data.json'),
    console: join(dir, 'console.log'),
  };
}

export function diskDir(root: string, diskId: string): string {
  return join(root, 'disks', diskId);
}

/** How a VM's init starts its agent. */
export interface AgentLaunch {
  node: string;
  main: string;
  binDirs: string[];
  logLevel: 'debug' | 'info';
}

/*
 * A VM's init: restarts the agent whenever it exits, a second later, as the image's systemd unit does
 * (Restart=always). It leads the VM's session; the agent runs in its process group, the agent's job
 * processes each in a session of their own.
 */
const INIT_SCRIPT =
  'while :; do "$@"; echo "slipway-vm-init: agent exited with $?; restarting in 1 s" >&2; sleep 1; done';

/**
 * The host side of local VMs: boots a VM's process tree (init, agent, jobs) and ends it. Processes are
 * found by the marker in their environment, so a tree is killed whole even when the control plane that
 * started it is gone or a process was reparented.
 */
export class LocalMachine {
  constructor(
    private readonly root: string,
    private readonly agent: AgentLaunch,
  ) {}

  /** Writes the VM's user data (the settings, 0600) and meta-data. */
  prepare(vm: VmRecord, env: AgentSettings): void {
    const layout = vmLayout(this.root, vm.id);
    mkdirSync(layout.fs, { recursive: true, mode: 0o755 });
    writeAtomic(layout.userData, JSON.stringify(env), 0o600);
    this.writeMetaData(vm, {});
  }

  /** What the VM's agent reads on every look: its id, its real address, where its attached disks are. */
  writeMetaData(vm: VmRecord, disks: Record<string, DiskLocation>): void {
    writeAtomic(
      vmLayout(this.root, vm.id).metaData,
      JSON.stringify({ instanceId: vm.id, network: { ip: vm.ip }, disks }),
      0o644,
    );
  }

  /**
   * Starts the VM's init (and so its agent); returns the init's pid and kernel start time. A VM with a network
   * namespace runs in it (`ip netns exec` execs, so the pid is the init's), with `relay` (the VM's end of its
   * way to the control plane) started beside it.
   */
  async boot(
    vm: VmRecord,
    network?: { namespace: string; relay?: string[] },
  ): Promise<{ pid: number; startTime: number }> {
    const layout = vmLayout(this.root, vm.id);
    const agentArgs = [
      this.agent.main,
      '--metadata',
      `file:${layout.userData},${layout.metaData}`,
      '--root',
      layout.fs,
      '--log-level',
      this.agent.logLevel,
      ...this.agent.binDirs.flatMap((dir) => ['--bin-dir', dir]),
      // Without a namespace the VM's stack is the host's: its routes are not the agent's to change.
      ...(network ? [] : ['--no-pod-routes']),
    ];
    const console = openSync(layout.console, 'a', 0o640);
    const inNamespace = (argv: string[]): [string, string[]] =>
      network ? ['ip', ['netns', 'exec', network.namespace, ...argv]] : [argv[0]!, argv.slice(1)];
    const start = async (argv: string[]): Promise<number> => {
      const [command, args] = inNamespace(argv);
      const child = spawn(command, args, {
        cwd: layout.fs,
        detached: true,
        stdio: ['ignore', console, console],
        env: vmEnvironment(vmMarker(this.root, vm.id)),
      });
      await new Promise<void>((ok, fail) => {
        child.once('spawn', ok);
        child.once('error', fail);
      });
      child.unref();
      return child.pid!;
    };
    try {
      // The relay first: the agent's first sync then finds the control plane.
      if (network?.relay) await start([this.agent.node, ...network.relay]);
      const pid = await start(['/bin/sh', '-c', INIT_SCRIPT, 'slipway-vm-init', this.agent.node, ...agentArgs]);
      return { pid, startTime: readProcStat(pid)?.startTime ?? 0 };
    } finally {
      closeSync(console);
    }
  }

  /** Whether the VM's init still runs (its tree is alive). */
  isRunning(vm: VmRecord): boolean {
    return vm.initPid !== undefined && isSameProcess(vm.initPid, vm.initStartTime ?? -1);
  }

  /** Ends every process of the VM; see killVmTree. */
  kill(vm: VmRecord, graceMs: number): Promise<number[]> {
    return killVmTree(this.root, vm, graceMs);
  }

  /** Pids of the VM's processes now. */
  pids(vmId: string): number[] {
    return pidsWithEnv(VM_MARKER, vmMarker(this.root, vmId));
  }
}

/**
 * Ends a VM's process tree: the init and agent first (so nothing restarts), then SIGTERM to every job
 * process group, SIGKILL to what is left after `graceMs`. Returns the pids it found.
 */
export async function killVmTree(
  root: string,
  vm: Pick<VmRecord, 'id' | 'initPid' | 'initStartTime'>,
  graceMs: number,
): Promise<number[]> {
  const marker = vmMarker(root, vm.id);
  const seen = new Set<number>(pidsWithEnv(VM_MARKER, marker));
  if (vm.initPid !== undefined && isSameProcess(vm.initPid, vm.initStartTime ?? -1)) signalGroup(vm.initPid, 'SIGKILL');
  let pids = pidsWithEnv(VM_MARKER, marker);
  if (graceMs > 0 && pids.length) {
    for (const pid of pids) signalGroup(readProcStat(pid)?.pgid ?? pid, 'SIGTERM');
    const deadline = Date.now() + graceMs;
    while (pids.length && Date.now() < deadline) {
      await delay(50);
      pids = pidsWithEnv(VM_MARKER, marker);
    }
  }
  for (let round = 0; round < 100; round++) {
    pids = pidsWithEnv(VM_MARKER, marker);
    if (!pids.length) break;
    for (const pid of pids) {
      seen.add(pid);
      signalGroup(readProcStat(pid)?.pgid ?? pid, 'SIGKILL');
      signalGroup(pid, 'SIGKILL');
    }
    await delay(50);
  }
  return [...seen];
}

/** Every process of any VM under `root` (what `destroy` and the fake's `stop` make sure is empty). */
export function pidsUnderRoot(root: string): number[] {
  return pidsWithEnv(VM_MARKER, rootDigest(root), { prefix: true });
}

/** A VM starts from a clean environment, as a booted machine does: nothing of the control plane's leaks in. */
function vmEnvironment(marker: string): Record<string, string> {
  const env: Record<string, string> = { [VM_MARKER]: marker, PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin' };
  for (const name of ['HOME', 'LANG', 'TZ', 'TMPDIR']) if (process.env[name]) env[name] = process.env[name]!;
  return env;
}

function writeAtomic(file: string, content: string, mode: number): void {
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, content, { mode });
  renameSync(temp, file);
}
