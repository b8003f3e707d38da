import { SlipwayError } from '@slipway/contracts';
import type { ProcessExit, ProcessRunner, ProcessSpec, RunningProcess } from '@slipway/agent';

/** What happened to simulated processes, in order: tests assert start and stop order on it. */
export interface ProcessEvent {
  type: 'start' | 'stop' | 'exit';
  job: string;
  name: string;
  pid: number;
  exit?: ProcessExit;
}

/** A process that exists only in memory. */
export class SimulatedProcess implements RunningProcess {
  readonly exited: Promise<ProcessExit>;
  private resolveExit!: (exit: ProcessExit) => void;
  private exitState: ProcessExit | undefined;

  constructor(
    readonly pid: number,
    readonly spec: ProcessSpec,
    private readonly record: (event: ProcessEvent) => void,
  ) {
    this.exited = new Promise((resolve) => {
      this.resolveExit = resolve;
    });
  }

  get running(): boolean {
    return this.exitState === undefined;
  }

  /** Simulated processes honour SIGTERM at once, so the grace period is never used. */
  async stop(_graceMs: number): Promise<void> {
    if (!this.running) return;
    this.record({ type: 'stop', job: this.spec.job, name: this.spec.name, pid: this.pid });
    this.exit({ code: null, signal: 'SIGTERM' });
    await this.exited;
  }

  /** Ends the process as a crash or an outside kill would. */
  exit(exit: ProcessExit): void {
    if (!this.running) return;
    this.exitState = exit;
    this.record({ type: 'exit', job: this.spec.job, name: this.spec.name, pid: this.pid, exit });
    this.resolveExit(exit);
  }
}

export interface SimulatedProcessRunnerOptions {
  /** How long a start takes, in ms. Default 0. */
  startDelayMs?: number;
  /** First pid handed out. Default 1000. */
  firstPid?: number;
}

/**
 * The agent's process runner in the sandbox and in every cloud fake: processes are in-memory records with
 * pids, and tests kill them to inject faults. A runner outlives the agents using it (it is the "VM"), so a
 * restarted agent adopts its processes through `list()`.
 */
export class SimulatedProcessRunner implements ProcessRunner {
  /** Every start, stop and exit, in order. */
  readonly events: ProcessEvent[] = [];
  private nextPid: number;
  private readonly processes: SimulatedProcess[] = [];
  private readonly startFailures = new Map<string, string>();
  private readonly startDelayMs: number;

  constructor(options: SimulatedProcessRunnerOptions = {}) {
    this.startDelayMs = options.startDelayMs ?? 0;
    this.nextPid = options.firstPid ?? 1000;
  }

  async start(spec: ProcessSpec): Promise<SimulatedProcess> {
    if (this.startDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.startDelayMs));
    const failure = this.startFailures.get(spec.name);
    if (failure !== undefined) {
      throw new SlipwayError('Internal', `cannot start ${spec.name}: ${failure}`, {
        details: { command: spec.command },
      });
    }
    const process = new SimulatedProcess(this.nextPid++, { ...spec, args: [...spec.args] }, (event) =>
      this.events.push(event),
    );
    this.processes.push(process);
    this.events.push({ type: 'start', job: spec.job, name: spec.name, pid: process.pid });
    void process.exited.then(() => {
      const index = this.processes.indexOf(process);
      if (index >= 0) this.processes.splice(index, 1);
    });
    return process;
  }

  async list(): Promise<Array<{ spec: ProcessSpec; process: SimulatedProcess }>> {
    return this.running().map((process) => ({ spec: { ...process.spec, args: [...process.spec.args] }, process }));
  }

  /** Processes running now, in start order. */
  running(): SimulatedProcess[] {
    return this.processes.filter((process) => process.running);
  }

  /** The running process called `name`, if any. */
  find(name: string): SimulatedProcess | undefined {
    return this.running().find((process) => process.spec.name === name);
  }

  /**
   * Makes the running process `name` exit on its own (a crash, the OOM killer) with `code` (default 1).
   * Returns false when no such process runs.
   */
  kill(name: string, code: number | null = 1, signal: string | null = null): boolean {
    const process = this.find(name);
    if (!process) return false;
    process.exit({ code, signal });
    return true;
  }

  /** Makes every later start of `name` fail with `reason` (a missing binary), until `allowStart(name)`. */
  failStarts(name: string, reason = 'executable not found'): void {
    this.startFailures.set(name, reason);
  }

  allowStart(name: string): void {
    this.startFailures.delete(name);
  }

  /** How many times `name` was started. */
  startCount(name: string): number {
    return this.events.filter((event) => event.type === 'start' && event.name === name).length;
  }

  /** Stops everything, newest first: the VM is powered off. */
  async stopAll(): Promise<void> {
    for (const process of this.running().reverse()) await process.stop(0);
  }
}
