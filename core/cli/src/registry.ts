import type { CliIo } from './io.js';

/** One flag of a command. */
export interface FlagSpec {
  type: 'string' | 'boolean';
  short?: string;
  description: string;
  /** Shown in help after the flag: `--plan PLAN`. */
  valueName?: string;
  required?: boolean;
  /** Environment variable used when the flag is absent (documented in help). */
  env?: string;
}

/** One positional argument. */
export interface ArgSpec {
  name: string;
  description: string;
  required: boolean;
}

/** What a command's `run` receives: its parsed arguments and the process it runs in. */
export interface CommandContext {
  io: CliIo;
  args: Record<string, string | undefined>;
  flags: ParsedFlags;
  command: Command;
}

/** Parsed flag values with typed accessors that raise usage errors naming the flag. */
export interface ParsedFlags {
  has(name: string): boolean;
  string(name: string): string | undefined;
  bool(name: string): boolean;
  /** An integer within [min, max]; a usage error names the flag otherwise. */
  int(name: string, range?: { min?: number; max?: number }): number | undefined;
}

/**
 * A command of the `slipway` CLI. Each group of commands lives in one file under commands/ and exports
 * its list; the registry only needs this shape.
 */
export interface Command {
  /** `create-cluster`, or `sandbox kill-vm` for a command inside a namespace. */
  name: string;
  summary: string;
  /** Longer help text, shown under the usage line. */
  description?: string;
  args?: ArgSpec[];
  flags?: Record<string, FlagSpec>;
  /** Adds `--json` (print the API's JSON unchanged). */
  json?: boolean;
  examples?: string[];
  /**
   * API request fields set from the command line (`parameters.kubernetes_worker_instances` → `--num-nodes`,
   * `name` → `NAME`), so an API error about the field also names what the user typed.
   */
  apiFields?: Record<string, string>;
  /** Resolves with the exit code. */
  run(context: CommandContext): Promise<number>;
}

/** Commands listed under one heading of `slipway --help`. */
export interface CommandGroup {
  title: string;
  commands: Command[];
}

export const JSON_FLAG: FlagSpec = { type: 'boolean', description: "print the API's JSON unchanged" };
export const HELP_FLAG: FlagSpec = { type: 'boolean', short: 'h', description: 'show this help' };

/** Every flag a command accepts, including the ones the registry adds. */
export function flagsOf(command: Command): Record<string, FlagSpec> {
  return { ...(command.flags ?? {}), ...(command.json ? { json: JSON_FLAG } : {}), help: HELP_FLAG };
}

/** The namespace of a command (`sandbox` for `sandbox kill-vm`), if any. */
export function namespaceOf(command: Command): string | undefined {
  const space = command.name.indexOf(' ');
  return space > 0 ? command.name.slice(0, space) : undefined;
}
