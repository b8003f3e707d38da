/** Where a stream of output goes; `process.stdout` fits, and so does a test's string buffer. */
export interface OutputStream {
  write(chunk: string): unknown;
  /** True on a terminal: `--wait` redraws in place and `delete-cluster` may ask for confirmation. */
  isTTY?: boolean;
  /** Terminal width, so redrawn lines never wrap (a wrapped line breaks cursor-up redraws). */
  columns?: number;
}

/** What a prompt reads from; `process.stdin` fits. */
export type InputStream = NodeJS.ReadableStream & { isTTY?: boolean };

/**
 * Everything the CLI touches of its process, injected so every command runs in-process in tests:
 * output streams, environment, working directory and the signal that asks it to stop.
 */
export interface CliIo {
  stdout: OutputStream;
  stderr: OutputStream;
  /** Confirmation prompts read here; without it (or off a TTY) commands never ask. */
  stdin?: InputStream;
  env: Record<string, string | undefined>;
  /** Relative paths in flags and environment resolve against this. */
  cwd: string;
  /** Fires on SIGINT/SIGTERM: `up` stops the control plane cleanly, `--wait` stops waiting. */
  signal?: AbortSignal;
  /** How often `--wait` polls the task; default 1000 ms. */
  pollIntervalMs?: number;
}
