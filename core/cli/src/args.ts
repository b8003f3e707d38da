import { parseArgs } from 'node:util';
import { UsageError } from './errors.js';
import { flagsOf, type Command, type ParsedFlags } from './registry.js';

export interface ParsedCommandLine {
  args: Record<string, string | undefined>;
  flags: ParsedFlags;
  help: boolean;
}

const NEGATIVE_NUMBER = /^-\d+(\.\d+)?$/;

/**
 * Parses a command's argv with node:util parseArgs. Parsing is lenient and then checked token by token,
 * so each usage error names the exact flag (`unknown flag --foo`, `--plan needs a value`).
 */
export function parseCommandLine(
  command: Command,
  argv: string[],
  env: Record<string, string | undefined> = {},
): ParsedCommandLine {
  const specs = flagsOf(command);
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {};
  for (const [name, spec] of Object.entries(specs))
    options[name] = { type: spec.type, ...(spec.short ? { short: spec.short } : {}) };
  const { values, positionals, tokens } = parseArgs({
    args: argv,
    options,
    allowPositionals: true,
    strict: false,
    tokens: true,
  });
  const help = values.help === true;
  if (help) return { args: {}, flags: flagAccessors(command, {}, env), help };

  for (const token of tokens) {
    if (token.kind !== 'option') continue;
    const spec = specs[token.name];
    if (!spec) throw new UsageError(`unknown flag ${token.rawName} for slipway ${command.name}`, command.name);
    const shown =
      spec.short && token.rawName === `-${spec.short}` ? `${token.rawName}/--${token.name}` : `--${token.name}`;
    if (spec.type === 'boolean' && token.value !== undefined) {
      throw new UsageError(`${shown} takes no value (got "${token.value}")`, command.name);
    }
    if (spec.type === 'string') {
      if (token.value === undefined)
        throw new UsageError(`${shown} needs a value${spec.valueName ? ` (${spec.valueName})` : ''}`, command.name);
      // `--plan --wait`: the user forgot the value; a negative number is still a value (checked later).
      if (!token.inlineValue && token.value.startsWith('-') && !NEGATIVE_NUMBER.test(token.value)) {
        throw new UsageError(
          `${shown} needs a value${spec.valueName ? ` (${spec.valueName})` : ''}; got the flag ${token.value}`,
          command.name,
        );
      }
    }
  }

  const specsArgs = command.args ?? [];
  if (positionals.length > specsArgs.length) {
    const extra = positionals
      .slice(specsArgs.length)
      .map((p) => `"${p}"`)
      .join(' ');
    throw new UsageError(
      `unexpected argument${positionals.length - specsArgs.length > 1 ? 's' : ''} ${extra} for slipway ${command.name}`,
      command.name,
    );
  }
  const args: Record<string, string | undefined> = {};
  specsArgs.forEach((spec, i) => {
    const value = positionals[i];
    if (value === undefined && spec.required)
      throw new UsageError(`missing argument ${spec.name} for slipway ${command.name}`, command.name);
    args[spec.name] = value;
  });

  const flags = flagAccessors(command, values as Record<string, string | boolean | undefined>, env);
  for (const [name, spec] of Object.entries(specs)) {
    if (spec.required && !flags.has(name)) {
      throw new UsageError(
        `missing required flag --${name}${spec.short ? ` (-${spec.short})` : ''} for slipway ${command.name}`,
        command.name,
      );
    }
  }
  return { args, flags, help };
}

function flagAccessors(
  command: Command,
  values: Record<string, string | boolean | undefined>,
  env: Record<string, string | undefined>,
): ParsedFlags {
  const specs = flagsOf(command);
  const raw = (name: string): string | boolean | undefined => {
    const spec = specs[name];
    if (!spec) throw new Error(`slipway ${command.name} reads undeclared flag --${name}`);
    const value = values[name];
    if (value !== undefined) return value;
    const fromEnv = spec.env ? env[spec.env] : undefined;
    return fromEnv === undefined || fromEnv === '' ? undefined : fromEnv;
  };
  const source = (name: string) => (values[name] !== undefined ? `--${name}` : `$${specs[name]?.env}`);
  return {
    has: (name) => raw(name) !== undefined,
    string(name) {
      const value = raw(name);
      return typeof value === 'string' ? value : undefined;
    },
    bool: (name) => raw(name) === true,
    int(name, range = {}) {
      const value = raw(name);
      if (value === undefined || typeof value === 'boolean') return undefined;
      if (!/^-?\d+$/.test(value))
        throw new UsageError(`${source(name)} must be an integer; got "${value}"`, command.name);
      const n = Number(value);
      if (range.min !== undefined && n < range.min)
        throw new UsageError(`${source(name)} must be at least ${range.min}; got ${n}`, command.name);
      if (range.max !== undefined && n > range.max)
        throw new UsageError(`${source(name)} must be at most ${range.max}; got ${n}`, command.name);
      return n;
    },
  };
}
