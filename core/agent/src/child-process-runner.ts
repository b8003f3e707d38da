import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { SlipwayError } from '@slipway/contracts';
import { LogCap } from './log-files.js';
import { isSameProcess, readProcStat, signalGroup } from './proc.js';
import type { ProcessExit, ProcessRunner, ProcessSpec, RunningProcess } from './process-runner.js';

export interface ChildProcessRunnerOptions {
  /** Where pid files go (one per process, JSON: pid, kernel start time, spec). */
  runDir: string;
  /** `{logDir}/{job}/{process}.log` unless a spec names its own file. */
  logDir: string;
  /** Size cap of each log file; default 10 MiB (plus one rotated copy). */
  logMaxBytes?: number;
  /** Variables every process gets on top of the agent's own environment. */
  env?: Record<string, string>;
  /** How often an adopted process (not a child of this agent) is checked for exit; default 500 ms. */
  adoptedPollMs?: number;
}

interface PidFile {
  pid: number;
  startTime: number;
  startedAt: string;
  spec: ProcessSpec;
}

/**
 * Runs job processes as real child processes. Each one leads its own process group (a new session), so
 * stopping it signals the whole tree it spawned, and it survives the agent: an agent that restarts finds it
 * again through its pid file, checks that the pid is still that process (kernel start time), and adopts it.
 */
export class ChildProcessRunner implements ProcessRunner {
  private readonly logs: LogCap;
  private readonly adoptedPollMs: number;

  constructor(private readonly options: ChildProcessRunnerOptions) {
    this.logs = new LogCap(options.logMaxBytes ?? 10 * 1024 * 1024);
    this.adoptedPollMs = options.adoptedPollMs ?? 500;
  }

  async start(spec: ProcessSpec): Promise<RunningProcess> {
    if (spec.unavailable) throw new SlipwayError('NotFound', spec.unavailable);
    const logFile = this.logFileOf(spec);
    mkdirSync(dirname(logFile), { recursive: true, mode: 0o750 });
    mkdirSync(this.options.runDir, { recursive: true, mode: 0o700 });
    this.logs.enforce();
    const fd = openSync(logFile, 'a', 0o640);
    let child;
    try {
      child = spawn(spec.command, spec.args, {
        cwd: spec.cwd,
        env: { ...process.env, ...this.options.env, ...spec.env },
        detached: true,
        stdio: ['ignore', fd, fd],
      });
      await new Promise<void>((resolve, reject) => {
        child!.once('spawn', resolve);
        child!.once('error', reject);
      });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new SlipwayError(
        code === 'ENOENT' ? 'NotFound' : 'Internal',
        `cannot start ${spec.name}: ${code === 'ENOENT' ? `${spec.command} not found` : (error as Error).message}`,
        { cause: error },
      );
    } finally {
      closeSync(fd);
    }
    const pid = child.pid!;
    const exited = new Promise<ProcessExit>((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }));
    });
    // Detached children must not keep the agent's event loop alive on their own.
    child.unref();
    const startTime = readProcStat(pid)?.startTime ?? 0;
    this.writePidFile({ pid, startTime, startedAt: new Date().toISOString(), spec });
    this.logs.watch(logFile);
    return this.track(spec, pid, exited);
  }

  async list(): Promise<Array<{ spec: ProcessSpec; process: RunningProcess }>> {
    const found: Array<{ spec: ProcessSpec; process: RunningProcess }> = [];
    for (const file of this.pidFiles()) {
      let record: PidFile;
      try {
        record = JSON.parse(readFileSync(file, 'utf8')) as PidFile;
      } catch {
        rmSync(file, { force: true });
        continue;
      }
      if (!isSameProcess(record.pid, record.startTime)) {
        // The process died while no agent watched it, or the pid now names another process: not ours.
        rmSync(file, { force: true });
        continue;
      }
      this.logs.watch(this.logFileOf(record.spec));
      found.push({
        spec: record.spec,
        process: this.track(record.spec, record.pid, this.pollExit(record.pid, record.startTime)),
      });
    }
    return found;
  }

  close(): void {
    this.logs.close();
  }

  private track(spec: ProcessSpec, pid: number, exited: Promise<ProcessExit>): RunningProcess {
    const pidFile = this.pidFileOf(spec);
    void exited.then(() => {
      // Whatever the process left in its group (a shell's children) goes with it.
      signalGroup(pid, 'SIGKILL');
      this.removePidFileIf(pidFile, pid);
      this.logs.unwatch(this.logFileOf(spec));
    });
    let stopping: Promise<void> | undefined;
    return {
      pid,
      exited,
      stop: (graceMs: number) => {
        stopping ??= (async () => {
          signalGroup(pid, 'SIGTERM');
          const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), graceMs).unref());
          if ((await Promise.race([exited.then(() => 'exited' as const), timer])) === 'timeout')
            signalGroup(pid, 'SIGKILL');
          await exited;
        })();
        return stopping;
      },
    };
  }

  /** Exit of a process that is not our child: watched through /proc, since it cannot be waited for. */
  private pollExit(pid: number, startTime: number): Promise<ProcessExit> {
    return new Promise((resolve) => {
      const timer = setInterval(() => {
        if (isSameProcess(pid, startTime)) return;
        clearInterval(timer);
        resolve({ code: null, signal: null });
      }, this.adoptedPollMs);
      timer.unref();
    });
  }

  private logFileOf(spec: ProcessSpec): string {
    return spec.logFile ?? join(this.options.logDir, spec.job, `${spec.name}.log`);
  }

  private pidFileOf(spec: ProcessSpec): string {
    return join(this.options.runDir, `${spec.name}.pid.json`);
  }

  private pidFiles(): string[] {
    try {
      return readdirSync(this.options.runDir)
        .filter((f) => f.endsWith('.pid.json'))
        .map((f) => join(this.options.runDir, f));
    } catch {
      return [];
    }
  }

  private writePidFile(record: PidFile): void {
    const file = this.pidFileOf(record.spec);
    const temp = `${file}.${process.pid}.tmp`;
    writeFileSync(temp, JSON.stringify(record), { mode: 0o600 });
    renameSync(temp, file);
  }

  private removePidFileIf(file: string, pid: number): void {
    try {
      const record = JSON.parse(readFileSync(file, 'utf8')) as PidFile;
      // A restart may already have written the new process's pid file.
      if (record.pid === pid) rmSync(file, { force: true });
    } catch {
      // Already gone.
    }
  }
}
