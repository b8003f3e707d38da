import { assertNever } from '@slipway/contracts';
import type { ApiClient } from './api-client.js';
import { isFinished, type StepState, type TaskDoc } from './api-types.js';
import { ApiError, CliError } from './errors.js';
import type { CliIo, OutputStream } from './io.js';
import { followEvents } from './event-stream.js';
import { duration, localClock } from './output/time.js';

/** How the progress of a task is shown while `--wait` polls it. */
export interface TaskProgressView {
  update(task: TaskDoc): void;
  end(task: TaskDoc): void;
}

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

function stepMark(state: StepState, frame: number): string {
  switch (state) {
    case 'done':
      return '✓';
    case 'running':
      return SPINNER[frame % SPINNER.length];
    case 'failed':
      return '✗';
    case 'skipped':
      return '-';
    case 'pending':
      return '·';
    default:
      return assertNever(state, 'step state');
  }
}

function elapsedOf(task: TaskDoc, started: number): number {
  const from = task.started_at ? Date.parse(task.started_at) : started;
  const to = task.ended_at ? Date.parse(task.ended_at) : Date.now();
  return Math.max(0, to - from);
}

/**
 * On a terminal: one block (a header, a line per step with its detail, what the task waits for) redrawn
 * in place on every poll. Lines are cut to the terminal width, because a wrapped line would make the
 * cursor-up redraw eat the lines above it.
 */
export class LiveTaskView implements TaskProgressView {
  private drawn = 0;
  private frame = 0;
  private readonly started = Date.now();

  constructor(private readonly out: OutputStream) {}

  update(task: TaskDoc): void {
    this.draw(task);
    this.frame++;
  }

  end(task: TaskDoc): void {
    this.draw(task);
  }

  private draw(task: TaskDoc): void {
    const width = Math.max(20, (this.out.columns ?? 100) - 1);
    const nameWidth = Math.max(...task.steps.map((s) => s.name.length), 4);
    const lines = [
      `Task ${task.id}: ${task.description} (${task.state}, ${task.progress.done}/${task.progress.total} steps, ${duration(elapsedOf(task, this.started))})`,
      ...task.steps.map((s) =>
        `  ${stepMark(s.state, this.frame)} ${s.name.padEnd(nameWidth)}  ${s.detail ?? ''}`.trimEnd(),
      ),
      ...(task.waiting_for && !task.steps.some((s) => s.state === 'running' && s.detail?.includes(task.waiting_for!))
        ? [`  waiting for: ${task.waiting_for}`]
        : []),
    ].map((line) => (line.length > width ? `${line.slice(0, width - 1)}…` : line));
    // Back to the first line of the previous block, clear to the end of the screen, draw the new one.
    const rewind = this.drawn ? `\x1b[${this.drawn}F\x1b[J` : '';
    this.out.write(`${rewind}${lines.join('\n')}\n`);
    this.drawn = lines.length;
  }
}

/** Off a terminal (logs, CI, pipes): one timestamped line per change, nothing redrawn. */
export class LogTaskView implements TaskProgressView {
  private readonly seen = new Map<string, string>();
  private lastState?: string;
  private lastWaiting: string | null = null;
  private readonly started = Date.now();

  constructor(private readonly out: OutputStream) {}

  update(task: TaskDoc): void {
    const at = localClock(new Date());
    if (task.state !== this.lastState && !isFinished(task.state)) {
      this.out.write(`${at} task ${task.id} (${task.description}): ${task.state}\n`);
      this.lastState = task.state;
    }
    task.steps.forEach((step, i) => {
      const key = `${step.state}|${step.detail ?? ''}`;
      if (step.state === 'pending' || this.seen.get(step.name) === key) return;
      this.seen.set(step.name, key);
      this.out.write(
        `${at} [${i + 1}/${task.steps.length}] ${step.name}: ${step.state}${step.detail ? ` (${step.detail})` : ''}\n`,
      );
    });
    if (task.waiting_for !== this.lastWaiting) {
      // A step often shows the same text as its detail; say it once.
      const shown =
        task.waiting_for && task.steps.some((s) => s.state === 'running' && s.detail?.includes(task.waiting_for!));
      if (task.waiting_for && !shown) this.out.write(`${at} waiting for: ${task.waiting_for}\n`);
      this.lastWaiting = task.waiting_for;
    }
  }

  end(task: TaskDoc): void {
    this.update(task);
    this.out.write(
      `${localClock(new Date())} task ${task.id} ${task.state} after ${duration(elapsedOf(task, this.started))}\n`,
    );
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Resolves when the signal aborts (never without one). */
function abortOf(signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) resolve();
    signal?.addEventListener('abort', () => resolve(), { once: true });
  });
}

/** Consecutive failed polls tolerated (a control plane restarting answers 503 for a moment). */
const MAX_POLL_FAILURES = 5;
/** While the stream is up and quiet, the task is still re-read this often (a safety net, not the pace). */
const QUIET_REFRESH_MS = 30_000;

/**
 * The task's events (GET /v1/events?task=ID) as wake-ups: each one makes `--wait` re-read the task at once.
 * When the stream cannot be opened or drops, `down` turns true and the waiter polls instead.
 */
class TaskWakeups {
  down = false;
  private pending = false;
  private wake?: () => void;
  private readonly controller = new AbortController();

  constructor(client: ApiClient, taskId: number, signal?: AbortSignal) {
    signal?.addEventListener('abort', () => this.controller.abort(), { once: true });
    const query = new URLSearchParams({ task: String(taskId) });
    void followEvents(client, query, { signal: this.controller.signal, maxFailures: 3, onEvent: () => this.notify() })
      .catch(() => {})
      .finally(() => {
        this.down = true;
        this.notify();
      });
  }

  /** Resolves at the next event (or at once if one came since the last call), or after `ms`. */
  next(ms: number): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = undefined;
        this.pending = false;
        resolve();
      };
      const timer = setTimeout(done, ms);
      timer.unref?.();
      this.wake = done;
    });
  }

  close(): void {
    this.controller.abort();
  }

  private notify(): void {
    if (this.wake) this.wake();
    else this.pending = true;
  }
}

/**
 * `--wait`: follows the task's events and re-reads GET /v1/tasks/{id} when one arrives, showing its steps,
 * until the task ends; if the event stream is refused or drops, it polls every `pollIntervalMs` instead.
 * Resolves with the final task, or undefined when the user interrupted the wait (the task goes on).
 */
export async function waitForTask(
  client: ApiClient,
  taskId: number,
  io: CliIo,
  out: OutputStream = io.stdout,
): Promise<TaskDoc | undefined> {
  const view: TaskProgressView = out.isTTY ? new LiveTaskView(out) : new LogTaskView(out);
  const interval = io.pollIntervalMs ?? 1000;
  // Subscribed before the first read, so no step that ends between the two is missed.
  const wakeups = new TaskWakeups(client, taskId, io.signal);
  let failures = 0;
  try {
    for (;;) {
      if (io.signal?.aborted) {
        io.stderr.write(`Stopped waiting; task ${taskId} goes on. Follow it with: slipway task ${taskId}\n`);
        return undefined;
      }
      let task: TaskDoc;
      try {
        task = await client.get<TaskDoc>(`/v1/tasks/${taskId}`);
        failures = 0;
      } catch (e) {
        const transient = !(e instanceof ApiError) || e.status >= 500;
        if (!transient || ++failures > MAX_POLL_FAILURES) throw e;
        await sleep(interval, io.signal);
        continue;
      }
      if (isFinished(task.state)) {
        view.end(task);
        return task;
      }
      view.update(task);
      if (wakeups.down) await sleep(interval, io.signal);
      else await Promise.race([wakeups.next(QUIET_REFRESH_MS), abortOf(io.signal)]);
    }
  } finally {
    wakeups.close();
  }
}

/** A task that did not end `done` as an error: its own message and hint, and where its log is. */
export function taskFailure(task: TaskDoc): CliError {
  const failed = task.steps.find((s) => s.state === 'failed');
  const what = task.error?.message ?? `task ended ${task.state}`;
  const hint = [task.error?.hint, `The task's log: slipway task ${task.id}`].filter(Boolean).join('\n      ');
  return new CliError(
    `task ${task.id} (${task.description}) ${task.state === 'cancelled' ? 'was cancelled' : 'failed'}${failed ? ` in step ${failed.name}` : ''}: ${what}`,
    hint,
  );
}
