import type { HealthCheck } from './health-check.js';

/**
 * How the agent runs processes. Real VMs use child processes; the sandbox and every cloud fake use the
 * testkit's simulated runner, so the same agent code is exercised everywhere.
 */

/** One process of a job, as the job catalog describes it. */
export interface ProcessSpec {
  /** The job this process belongs to (`etcd`, `kubelet`). */
  job: string;
  /** The process name, unique within the agent (`kube-apiserver`). */
  name: string;
  command: string;
  args: string[];
  env?: Record<string, string>;
  cwd?: string;
  /** How the supervisor tells that the process serves (it is `starting` until the check first passes). */
  health?: HealthCheck;
  /** Set when the process cannot run here (its binary is not installed): why. It is then never started. */
  unavailable?: string;
  /** Something wrong that does not stop it running (its binary is not the catalog's version): reported with its status. */
  warning?: string;
  /** A digest of the files the job rendered for it: a change restarts the process like a changed argument. */
  configHash?: string;
  /** Where its stdout and stderr go, for runners that write logs (default `{logDir}/{job}/{name}.log`). */
  logFile?: string;
}

export interface ProcessExit {
  code: number | null;
  signal: string | null;
}

/** A started process. */
export interface RunningProcess {
  readonly pid: number;
  /** Settles once, when the process has exited for any reason (crash, kill, stop). Never rejects. */
  readonly exited: Promise<ProcessExit>;
  /** Asks the process to stop (SIGTERM), kills it after `graceMs`; resolves once it has exited. */
  stop(graceMs: number): Promise<void>;
}

export interface ProcessRunner {
  /** Starts a process; resolves once it is running, rejects when it cannot start (binary missing...). */
  start(spec: ProcessSpec): Promise<RunningProcess>;
  /**
   * Processes this runner started that are still running, including those started by an earlier agent
   * on the same VM: a restarted agent adopts them instead of restarting healthy processes.
   */
  list?(): Promise<Array<{ spec: ProcessSpec; process: RunningProcess }>>;
  /** Releases timers; running processes are left alone. */
  close?(): void;
}

/** Whether two specs describe the same program run the same way (a changed spec means a restart). */
export function sameProcessSpec(a: ProcessSpec, b: ProcessSpec): boolean {
  return (
    a.job === b.job &&
    a.name === b.name &&
    a.command === b.command &&
    a.cwd === b.cwd &&
    a.configHash === b.configHash &&
    a.unavailable === b.unavailable &&
    a.warning === b.warning &&
    a.args.length === b.args.length &&
    a.args.every((arg, i) => arg === b.args[i]) &&
    sameEnv(a.env ?? {}, b.env ?? {})
  );
}

function sameEnv(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => a[key] === b[key]);
}
