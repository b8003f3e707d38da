import { copyFileSync, statSync, truncateSync } from 'node:fs';

/**
 * Keeps job logs under a size cap. A child writes its stdout and stderr straight to its log file (opened
 * O_APPEND), never through a pipe to the agent: a pipe would break when the agent restarts and kill the job
 * with SIGPIPE. So the cap works like logrotate's copytruncate: past `maxBytes` the file is copied to
 * `{file}.1` (replacing the older one) and truncated in place; appends then land at the new end.
 */
export class LogCap {
  private readonly files = new Set<string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly maxBytes: number,
    private readonly checkEveryMs = 5_000,
  ) {}

  watch(file: string): void {
    this.files.add(file);
    this.timer ??= setInterval(() => this.enforce(), this.checkEveryMs).unref();
  }

  unwatch(file: string): void {
    this.files.delete(file);
  }

  /** Rotates every watched file above the cap; returns the files it rotated. */
  enforce(): string[] {
    const rotated: string[] = [];
    for (const file of this.files) {
      try {
        if (statSync(file).size <= this.maxBytes) continue;
        copyFileSync(file, `${file}.1`);
        truncateSync(file, 0);
        rotated.push(file);
      } catch {
        // Removed with its job: nothing to cap.
      }
    }
    return rotated;
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
