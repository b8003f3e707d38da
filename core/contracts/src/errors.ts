/**
 * One error class for the whole system. Plugins map their cloud's or backend's errors to one of these
 * codes in one place (their `errors.ts`); the engine decides what to retry from `retryable`, never from
 * message text. docs/errors.md documents every code with how to solve it.
 */
export const ERROR_CODES = {
  NotFound: {
    status: 404,
    retryable: false,
    meaning: 'The named thing does not exist (or you may not see it).',
    solve: 'Check the name; list what exists (`slipway clusters`, `slipway plans`, `slipway tasks`).',
  },
  AlreadyExists: {
    status: 409,
    retryable: false,
    meaning: 'Something with that name already exists.',
    solve: 'Pick another name, or delete the existing one first.',
  },
  Conflict: {
    status: 409,
    retryable: false,
    meaning: 'The thing is busy or in a state that does not allow this now (e.g. a task is running on the cluster).',
    solve: 'Wait for the running task (`slipway task ID`) or cancel it (`slipway cancel-task ID`), then retry.',
  },
  InvalidInput: {
    status: 400,
    retryable: false,
    meaning: 'A request field is missing or has a bad value.',
    solve: 'Fix the named field; `slipway CMD --help` or GET /openapi.json lists the accepted values.',
  },
  InvalidConfig: {
    status: 400,
    retryable: false,
    meaning: 'slipway.yaml or a plugin config fails its schema.',
    solve: 'Fix every listed path; `slipway validate FILE` checks a config without starting anything.',
  },
  PluginRefused: {
    status: 500,
    retryable: false,
    meaning:
      'A configured plugin is missing, has the wrong version, or implements a contract this Slipway does not provide.',
    solve: 'Install the version the message names (`npm install PKG@RANGE`), or change `version:` in slipway.yaml.',
  },
  Unsupported: {
    status: 501,
    retryable: false,
    meaning: 'The plugin does not implement this optional verb (capability).',
    solve: 'Use a plugin that declares the capability, or avoid the operation on this target.',
  },
  Unauthenticated: {
    status: 401,
    retryable: false,
    meaning: 'No valid credentials were presented, or the token expired.',
    solve: 'Run `slipway login` again.',
  },
  Forbidden: {
    status: 403,
    retryable: false,
    meaning: 'Your roles do not allow this operation on this resource.',
    solve: 'Ask an admin for the role the message names (clusters.admin, clusters.manage, clusters.admin.read).',
  },
  QuotaExceeded: {
    status: 403,
    retryable: false,
    meaning: 'A cloud or Slipway quota would be exceeded.',
    solve: 'Delete unused clusters or VMs, or raise the quota of the target.',
  },
  CapacityExhausted: {
    status: 503,
    retryable: false,
    meaning: 'A pool ran out: no free IP address in the range, no capacity in the zone.',
    solve: 'Widen the network range in slipway.yaml or release unused clusters.',
  },
  Retryable: {
    status: 503,
    retryable: true,
    meaning: 'A transient failure (throttling, 5xx, timeout); the engine retries it with backoff.',
    solve: "Nothing, usually. If it persists, check the target cloud's status.",
  },
  PayloadTooLarge: {
    status: 413,
    retryable: false,
    meaning: 'The request body is larger than the route accepts (the limit is in the message).',
    solve: "Send a smaller body; the API reference lists each route's limit.",
  },
  RateLimited: {
    status: 429,
    retryable: true,
    meaning: 'Too many requests to the cloud or to Slipway.',
    solve: 'Slow down; the engine backs off on its own.',
  },
  Timeout: {
    status: 504,
    retryable: true,
    meaning: 'An operation did not finish within its bound.',
    solve: 'Look at the task log for what it waited on (`slipway task ID`).',
  },
  Cancelled: {
    status: 409,
    retryable: false,
    meaning: 'The operation was cancelled (a task cancel or shutdown aborted it).',
    solve: 'Start the operation again when ready.',
  },
  VmCreationFailed: {
    status: 502,
    retryable: false,
    meaning: 'The cloud refused or failed to create a VM (bad image, bad instance type).',
    solve: "Read the cloud's message in the task log; fix the plan's VM settings or the stemcell.",
  },
  DiskError: {
    status: 502,
    retryable: false,
    meaning: 'A persistent disk could not be created, attached or detached.',
    solve: 'Run `slipway doctor CLUSTER` to compare the store with the cloud.',
  },
  CloudError: {
    status: 502,
    retryable: false,
    meaning: 'The cloud answered with a permanent error not covered by another code.',
    solve: "Read the cloud's message (kept in the error); fix the request or the account.",
  },
  Internal: {
    status: 500,
    retryable: false,
    meaning: 'A bug in Slipway.',
    solve: 'Report it with the task log (`slipway task ID --json`).',
  },
} as const satisfies Record<string, { status: number; retryable: boolean; meaning: string; solve: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface SlipwayErrorOptions {
  cause?: unknown;
  /** Overrides the code's default; e.g. a cloud 409 that clears by itself. */
  retryable?: boolean;
  /** The cloud asked us to wait this long (Retry-After). */
  retryAfterMs?: number;
  /** The plugin package that raised it. */
  plugin?: string;
  /** The input field at fault, as a JSON path (`iaas[0].config.region`, `num_nodes`). */
  field?: string;
  /** What the user should do; defaults to the code's `solve` text. */
  hint?: string;
  /** Extra machine-readable facts (the running task's id, the allowed range...). */
  details?: Record<string, unknown>;
}

export class SlipwayError extends Error {
  override readonly name = 'SlipwayError';
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly retryAfterMs?: number;
  readonly plugin?: string;
  readonly field?: string;
  readonly hint: string;
  readonly details?: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: SlipwayErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable ?? ERROR_CODES[code].retryable;
    this.retryAfterMs = options.retryAfterMs;
    this.plugin = options.plugin;
    this.field = options.field;
    this.hint = options.hint ?? ERROR_CODES[code].solve;
    this.details = options.details;
  }

  get status(): number {
    return ERROR_CODES[this.code].status;
  }

  static is(value: unknown, code?: ErrorCode): value is SlipwayError {
    // Checked structurally too: two copies of this package (a plugin's own node_modules) must agree.
    const ok =
      value instanceof SlipwayError ||
      (typeof value === 'object' &&
        value !== null &&
        (value as { name?: unknown }).name === 'SlipwayError' &&
        typeof (value as { code?: unknown }).code === 'string');
    return ok && (code === undefined || (value as SlipwayError).code === code);
  }

  /** Wraps anything thrown into a SlipwayError, keeping the original as the cause. */
  static from(value: unknown, fallback: ErrorCode = 'Internal', plugin?: string): SlipwayError {
    if (SlipwayError.is(value)) return value;
    if (isAbort(value)) return new SlipwayError('Cancelled', 'the operation was aborted', { cause: value, plugin });
    const message = value instanceof Error ? value.message : String(value);
    return new SlipwayError(fallback, message, { cause: value, plugin });
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      message: this.message,
      retryable: this.retryable,
      hint: this.hint,
      ...(this.field ? { field: this.field } : {}),
      ...(this.plugin ? { plugin: this.plugin } : {}),
      ...(this.retryAfterMs !== undefined ? { retryAfterMs: this.retryAfterMs } : {}),
      ...(this.details ? { details: this.details } : {}),
    };
  }
}

function isAbort(value: unknown): boolean {
  return typeof value === 'object' && value !== null && (value as { name?: unknown }).name === 'AbortError';
}

/** Throws `Cancelled` when the signal has fired; call between the awaits of a long verb. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new SlipwayError('Cancelled', 'the operation was aborted', { cause: signal.reason });
}

/** For exhaustive switches over `as const` unions. */
export function assertNever(value: never, what = 'value'): never {
  throw new SlipwayError('Internal', `unexpected ${what}: ${JSON.stringify(value)}`);
}
