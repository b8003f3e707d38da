import { SlipwayError } from '@slipway/contracts';

/** Exit codes: 0 success, 1 the operation failed, 2 the command line was wrong. */
export const EXIT = { ok: 0, failed: 1, usage: 2, interrupted: 130 } as const;

/** A wrong command line: unknown flag, missing argument, bad value. Exits 2 and points at `--help`. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  /** The command whose help to point at (`create-cluster`); none for the top level. */
  command?: string;
  constructor(message: string, command?: string) {
    super(message);
    this.command = command;
  }
}

/** A failure the user can act on: a message and what to do. Exits 1. */
export class CliError extends Error {
  override readonly name: string = 'CliError';
  readonly hint?: string;
  constructor(message: string, hint?: string) {
    super(message);
    this.hint = hint;
  }
}

/** RFC 9457 problem+json as the Slipway API sends it. */
export interface Problem {
  type?: string;
  title?: string;
  status: number;
  detail?: string;
  code?: string;
  field?: string;
  hint?: string;
  details?: Record<string, unknown>;
}

/** The API answered with an error: its `detail` and `hint` are what the user sees. */
export class ApiError extends CliError {
  override readonly name = 'ApiError';
  readonly status: number;
  readonly code?: string;
  readonly problem: Problem;
  constructor(problem: Problem) {
    super(problem.detail ?? problem.title ?? `the API answered ${problem.status}`, problem.hint);
    this.status = problem.status;
    this.code = problem.code;
    this.problem = problem;
  }
}

/** The lines printed for an error: the message and what to do, never a stack (unless SLIPWAY_DEBUG). */
export function describeError(error: unknown, debug = false): string[] {
  const lines: string[] = [];
  if (error instanceof UsageError) {
    lines.push(`Error: ${error.message}`);
    lines.push(`Run: slipway ${error.command ? `${error.command} ` : ''}--help`);
  } else if (error instanceof CliError) {
    lines.push(`Error: ${error.message}`);
    if (error.hint) lines.push(`Hint: ${error.hint}`);
  } else if (SlipwayError.is(error)) {
    lines.push(`Error: ${error.message}`);
    if (error.hint) lines.push(`Hint: ${error.hint}`);
  } else {
    lines.push(`Error: ${error instanceof Error ? error.message : String(error)}`);
    lines.push('Hint: this looks like a bug in slipway; run again with SLIPWAY_DEBUG=1 and report the stack trace.');
  }
  if (debug && error instanceof Error && error.stack) lines.push(error.stack);
  return lines;
}
