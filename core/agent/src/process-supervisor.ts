import { assertNever, type Clock, type Logger, type ProcessState, type ProcessStatus } from '@slipway/contracts';
import { backoffDelay } from './backoff.js';
import { describeCheck, probe } from './health-check.js';
import type { ProcessExit, ProcessRunner, ProcessSpec, RunningProcess } from './process-runner.js';
import type { SupervisionOptions } from './supervision.js';
import { sleepQuietly } from './system-clock.js';

/** Where one supervised process is in its life; mapped to the heartbeat's ProcessState by `status()`. */
const PHASES = ['idle', 'starting', 'running', 'backoff', 'failing', 'stopping', 'stopped', 'unavailable'] as const;
type Phase = (typeof PHASES)[number];

export interface SupervisorDeps {
  runner: ProcessRunner;
  clock: Clock;
  logger: Logger;
  options: SupervisionOptions;
  /** Called after every change a heartbeat would show. */
  onChange(): void;
}

/**
 * Keeps one process running: starts it, restarts it with exponential backoff when it exits on its own, and
 * gives up (`failing`) after `maxRestarts` restarts within the window, until it is stopped and run again.
 */
export class ProcessSupervisor {
  private phase: Phase = 'idle';
  private process: RunningProcess | undefined;
  private restarts = 0;
  private recentRestarts: number[] = [];
  private reason: string | undefined;
  private wanted = false;
  private detached = false;
  private backoff: AbortController | undefined;
  private launching: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private readonly logger: Logger;
  /** Health of the current process: unknown until the first check, then whether the last checks passed. */
  private healthy: 'unknown' | 'healthy' | 'unhealthy' = 'unknown';
  private everHealthy = false;
  private failedChecks = 0;
  private healthLoop: AbortController | undefined;

  constructor(
    readonly spec: ProcessSpec,
    private readonly deps: SupervisorDeps,
  ) {
    this.logger = deps.logger.child({ job: spec.job, process: spec.name });
  }

  /** Takes over a process an earlier agent started and that is still running. */
  adopt(process: RunningProcess): void {
    this.wanted = true;
    this.process = process;
    this.phase = 'running';
    this.watch(process);
    this.checkHealth(process);
  }

  /**
   * Makes sure the process runs. Resolves after the first start attempt (whatever its outcome: a failed
   * start is retried in the background). A running, restarting or failing process is left as it is.
   */
  async run(): Promise<void> {
    if (this.stopping) await this.stopping;
    this.wanted = true;
    switch (this.phase) {
      case 'starting':
      case 'running':
      case 'backoff':
      case 'failing':
      case 'stopping':
        return;
      case 'unavailable':
        return;
      case 'stopped':
        this.restarts = 0;
        this.recentRestarts = [];
        this.reason = undefined;
        return this.launch(false);
      case 'idle':
        if (this.spec.unavailable) {
          // Nothing to start: the binary is not installed. Reported, never shown as running.
          this.phase = 'unavailable';
          this.reason = this.spec.unavailable;
          this.logger.warn('process unavailable', { reason: this.reason });
          this.deps.onChange();
          return;
        }
        return this.launch(false);
      default:
        return assertNever(this.phase, 'process phase');
    }
  }

  /** Stops the process (SIGTERM, then SIGKILL after `graceMs`) and keeps it stopped. */
  stop(graceMs: number): Promise<void> {
    this.stopping ??= this.stopOnce(graceMs).finally(() => {
      this.stopping = undefined;
    });
    return this.stopping;
  }

  private async stopOnce(graceMs: number): Promise<void> {
    this.wanted = false;
    this.backoff?.abort();
    this.healthLoop?.abort();
    await this.launching;
    const process = this.process;
    if (process) {
      this.phase = 'stopping';
      await process.stop(graceMs);
      this.process = undefined;
    }
    if (this.phase !== 'stopped' && this.phase !== 'unavailable') {
      this.phase = 'stopped';
      this.reason = undefined;
      this.deps.onChange();
    }
  }

  /** Stops supervising without touching the process: a new agent will adopt it. */
  detach(): void {
    this.detached = true;
    this.backoff?.abort();
    this.healthLoop?.abort();
  }

  status(): ProcessStatus {
    return {
      name: this.spec.name,
      state: this.state(),
      restarts: this.restarts,
      ...(this.process ? { pid: this.process.pid } : {}),
      ...(this.reason ? { reason: this.reason } : this.healthReason()),
      ...(this.spec.warning ? { warning: this.spec.warning } : {}),
    };
  }

  private state(): ProcessState {
    switch (this.phase) {
      case 'idle':
      case 'starting':
      case 'backoff':
        return 'starting';
      case 'running':
        // A process with a health check runs once the check has passed; it fails when checks keep failing after that.
        if (!this.spec.health) return 'running';
        if (!this.everHealthy) return 'starting';
        return this.healthy === 'unhealthy' && this.failedChecks >= HEALTH_FAILURES_TO_FAIL ? 'failing' : 'running';
      // A stopping process still runs until it has exited.
      case 'stopping':
        return 'running';
      case 'failing':
        return 'failing';
      case 'stopped':
        return 'stopped';
      case 'unavailable':
        return 'unavailable';
      default:
        return assertNever(this.phase, 'process phase');
    }
  }

  private healthReason(): { reason?: string } {
    if (this.phase !== 'running' || !this.spec.health || this.healthy === 'healthy') return {};
    const what = describeCheck(this.spec.health);
    if (!this.everHealthy)
      return { reason: this.lastCheckError ? `waiting for ${what}: ${this.lastCheckError}` : `waiting for ${what}` };
    return this.lastCheckError ? { reason: `health check failing: ${this.lastCheckError}` } : {};
  }

  private lastCheckError: string | undefined;

  /** Probes the process's health check while it runs: quickly until it first passes, then every few seconds. */
  private checkHealth(process: RunningProcess): void {
    const check = this.spec.health;
    if (!check) return;
    this.healthLoop?.abort();
    const loop = new AbortController();
    this.healthLoop = loop;
    this.healthy = 'unknown';
    this.everHealthy = false;
    this.failedChecks = 0;
    this.lastCheckError = undefined;
    const { clock } = this.deps;
    void (async () => {
      while (!loop.signal.aborted && this.process === process && !this.detached) {
        const failure = await probe(check, loop.signal);
        if (loop.signal.aborted || this.process !== process) return;
        const before = this.state();
        if (failure === undefined) {
          this.healthy = 'healthy';
          this.failedChecks = 0;
          this.lastCheckError = undefined;
          if (!this.everHealthy) this.logger.info('process is healthy', { check: describeCheck(check) });
          this.everHealthy = true;
        } else {
          this.healthy = 'unhealthy';
          this.failedChecks += 1;
          this.lastCheckError = failure;
        }
        if (this.state() !== before) this.deps.onChange();
        await sleepQuietly(clock, this.everHealthy ? HEALTH_INTERVAL_MS : HEALTH_INTERVAL_STARTING_MS, loop.signal);
      }
    })();
  }

  private launch(isRestart: boolean): Promise<void> {
    const launching: Promise<void> = this.startOnce(isRestart).finally(() => {
      if (this.launching === launching) this.launching = undefined;
    });
    this.launching = launching;
    return launching;
  }

  private async startOnce(isRestart: boolean): Promise<void> {
    this.phase = 'starting';
    if (isRestart) {
      this.restarts += 1;
      this.recentRestarts.push(this.deps.clock.now());
    }
    let process: RunningProcess;
    try {
      process = await this.deps.runner.start(this.spec);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.logger.warn('process failed to start', { error: message });
      if (this.wanted && !this.detached) this.failed(`failed to start: ${message}`);
      return;
    }
    this.process = process;
    this.phase = 'running';
    this.reason = undefined;
    this.logger.info(isRestart ? 'process restarted' : 'process started', {
      pid: process.pid,
      restarts: this.restarts,
    });
    this.watch(process);
    this.checkHealth(process);
    this.deps.onChange();
  }

  private watch(process: RunningProcess): void {
    void process.exited.then((exit) => {
      if (this.process !== process || this.detached || this.phase !== 'running') return;
      this.process = undefined;
      this.healthLoop?.abort();
      this.logger.warn('process exited unexpectedly', { pid: process.pid, code: exit.code, signal: exit.signal });
      this.failed(`exited with ${describeExit(exit)}`);
    });
  }

  /** An unexpected exit or a failed start: restart after a backoff, or give up past maxRestarts. */
  private failed(why: string): void {
    const { options, clock } = this.deps;
    const now = clock.now();
    this.recentRestarts = this.recentRestarts.filter((at) => now - at < options.restartWindowMs);
    if (this.recentRestarts.length >= options.maxRestarts) {
      this.phase = 'failing';
      this.reason = `${why}; restarted ${this.recentRestarts.length} times within ${Math.round(options.restartWindowMs / 1000)} s, not restarting again`;
      this.logger.error('process is failing', { reason: this.reason });
      this.deps.onChange();
      return;
    }
    const delay = backoffDelay(this.recentRestarts.length + 1, options.backoffBaseMs, options.backoffMaxMs);
    this.phase = 'backoff';
    this.reason = `${why}; restarting in ${delay} ms`;
    this.deps.onChange();
    const backoff = new AbortController();
    this.backoff = backoff;
    void sleepQuietly(clock, delay, backoff.signal).then(() => {
      if (backoff.signal.aborted || this.phase !== 'backoff' || !this.wanted || this.detached) return;
      return this.launch(true);
    });
  }
}

/** Health checks are probed this often once a process has been healthy, and more often before. */
const HEALTH_INTERVAL_MS = 5_000;
const HEALTH_INTERVAL_STARTING_MS = 500;
/** Consecutive failed checks after which a process that was healthy is reported failing. */
const HEALTH_FAILURES_TO_FAIL = 3;

function describeExit(exit: ProcessExit): string {
  if (exit.signal) return `signal ${exit.signal}`;
  return `code ${exit.code ?? 'unknown'}`;
}
