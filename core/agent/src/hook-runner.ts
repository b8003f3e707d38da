import { execFile } from 'node:child_process';
import type { Clock, HookStatus, Logger } from '@slipway/contracts';
import { backoffDelay } from './backoff.js';
import type { HookSpec } from './job-catalog.js';
import { sleepQuietly } from './system-clock.js';

/**
 * Runs one job hook until it succeeds: each attempt bounded by the hook's timeout, attempts spaced by a
 * capped backoff (a hook usually waits for something to come up, like the API server). Stops when the job stops.
 */
export class HookRunner {
  private state: HookStatus['state'] = 'pending';
  private attempts = 0;
  private reason: string | undefined;
  private readonly halt = new AbortController();
  private running: Promise<void> | undefined;

  constructor(
    readonly spec: HookSpec,
    private readonly deps: { clock: Clock; logger: Logger; env?: Record<string, string>; onChange(): void },
  ) {
    if (spec.unavailable) {
      this.state = 'unavailable';
      this.reason = spec.unavailable;
    }
  }

  start(): void {
    if (this.state !== 'pending' || this.running) return;
    this.running = this.loop();
  }

  async stop(): Promise<void> {
    this.halt.abort();
    await this.running;
  }

  status(): HookStatus {
    return {
      name: this.spec.name,
      state: this.state,
      attempts: this.attempts,
      ...(this.reason ? { reason: this.reason } : {}),
    };
  }

  private async loop(): Promise<void> {
    const logger = this.deps.logger.child({ hook: this.spec.name });
    while (!this.halt.signal.aborted) {
      this.attempts += 1;
      const failure = await this.attempt();
      if (this.halt.signal.aborted) return;
      if (failure === undefined) {
        this.state = 'done';
        this.reason = undefined;
        logger.info('hook done', { attempts: this.attempts });
        this.deps.onChange();
        return;
      }
      this.reason = failure;
      const delay = backoffDelay(this.attempts, 2_000, 30_000);
      logger.info('hook failed; retrying', { attempts: this.attempts, retryInMs: delay, error: failure.slice(0, 300) });
      this.deps.onChange();
      await sleepQuietly(this.deps.clock, delay, this.halt.signal);
    }
  }

  private attempt(): Promise<string | undefined> {
    return new Promise((resolve) => {
      execFile(
        this.spec.command,
        this.spec.args,
        {
          env: { ...process.env, ...this.deps.env, ...this.spec.env },
          timeout: this.spec.timeoutMs ?? 60_000,
          signal: this.halt.signal,
          maxBuffer: 4 * 1024 * 1024,
        },
        (error, _stdout, stderr) => {
          if (!error) return resolve(undefined);
          const text = String(stderr || '').trim() || error.message;
          resolve(text.slice(-500));
        },
      );
    });
  }
}
