import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FakeFaults, StartedFake } from '@slipway/simulation';
import type { LocalConfig } from '../src/config.js';
import { HostFaults, type FaultFile } from '../src/faults.js';
import { readInventory } from '../src/inventory.js';
import { killVmTree, pidsUnderRoot } from '../src/machine.js';

export interface LocalFake extends StartedFake<LocalConfig> {
  /** The driver's root: its state file, VM and disk directories. */
  readonly root: string;
  /** Pids of every process of every VM under the root, now. */
  pids(): number[];
}

/**
 * The local driver's "cloud" is this machine, so its fake is the driver itself on a fresh temporary root,
 * with faults injected where the machine would fail: `faults.json` makes the next host operation of a verb
 * fail with the errno the machine would give (EAGAIN, EIO, EINVAL), and killVm ends the VM's whole process
 * tree as a host failure would, without telling the driver.
 */
export async function startFake(options: { agentMain?: string; binDirs?: string[] } = {}): Promise<LocalFake> {
  const root = mkdtempSync(join(tmpdir(), 'slipway-local-'));
  const faultFile = new HostFaults(join(root, 'faults.json'));
  const update = (change: (faults: FaultFile) => void): void => {
    const faults = structuredClone(faultFile.read());
    change(faults);
    faultFile.write(faults);
  };
  const queue = (verb: string, kind: 'throttle' | 'server' | 'permanent', count = 1, message?: string): void =>
    update((faults) => {
      faults.queued ??= {};
      const list = faults.queued[verb] ?? [];
      for (let i = 0; i < count; i++) list.push({ kind, ...(message ? { message } : {}) });
      faults.queued[verb] = list;
    });
  const faults: FakeFaults = {
    throttleNext: (verb, count) => queue(verb, 'throttle', count),
    serverErrorNext: (verb, count) => queue(verb, 'server', count),
    permanentErrorNext: (verb, count) => {
      const message = `${verb}: invalid argument: the stemcell's agent cannot run here`;
      queue(verb, 'permanent', count, message);
      return message;
    },
    setFaultRates: (rates) =>
      update((f) => {
        f.rates = { throttle: rates.throttle ?? 0, serverError: rates.serverError ?? 0 };
      }),
    setLatency: (ms) =>
      update((f) => {
        f.latencyMs = ms;
      }),
    killVm: async (vmId) => {
      const vm = readInventory(join(root, 'state.json')).vms[vmId];
      if (vm) await killVmTree(root, vm, 0);
    },
    setQuota: (quota) =>
      update((f) => {
        f.quota = { ...quota };
      }),
    reset: () => faultFile.write({}),
  };
  const config: LocalConfig = {
    root,
    ...(options.agentMain ? { agent_main: options.agentMain } : {}),
    ...(options.binDirs ? { bin_dirs: options.binDirs } : {}),
  };
  return {
    root,
    config,
    faults,
    pids: () => pidsUnderRoot(root),
    async stop() {
      // The suite destroys its driver first; anything a test left running under this root ends here.
      const state = readInventory(join(root, 'state.json'));
      await Promise.all(Object.values(state.vms).map((vm) => killVmTree(root, vm, 0)));
      for (const pid of pidsUnderRoot(root))
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      rmSync(root, { recursive: true, force: true });
    },
  };
}
