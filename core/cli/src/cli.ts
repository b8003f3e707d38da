import { parseCommandLine } from './args.js';
import { COMMAND_GROUPS } from './commands/index.js';
import { ApiError, describeError, EXIT, UsageError } from './errors.js';
import { commandHelp, namespaceHelp, topHelp } from './help.js';
import type { CliIo } from './io.js';
import { namespaceOf, type Command, type CommandGroup } from './registry.js';
import { cliVersion } from './version.js';

/** Closest known name by edit distance, for `did you mean`. */
function closest(word: string, names: string[]): string | undefined {
  const distance = (a: string, b: string) => {
    const row = Array.from({ length: b.length + 1 }, (_, i) => i);
    for (let i = 1; i <= a.length; i++) {
      let previous = row[0];
      row[0] = i;
      for (let j = 1; j <= b.length; j++) {
        const current = row[j];
        row[j] = Math.min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
        previous = current;
      }
    }
    return row[b.length];
  };
  const scored = names.map((n) => ({ n, d: distance(word, n) })).sort((x, y) => x.d - y.d);
  return scored[0] && scored[0].d <= Math.max(2, Math.floor(word.length / 3)) ? scored[0].n : undefined;
}

/** Finds the command argv names; returns it with the arguments that follow its name. */
function findCommand(commands: Command[], argv: string[]): { command?: Command; rest: string[]; namespace?: string } {
  const [first, second] = argv;
  const namespaces = new Set(commands.map(namespaceOf).filter((n): n is string => n !== undefined));
  if (namespaces.has(first)) {
    const command =
      second && !second.startsWith('-') ? commands.find((c) => c.name === `${first} ${second}`) : undefined;
    return command ? { command, rest: argv.slice(2) } : { rest: argv.slice(1), namespace: first };
  }
  return { command: commands.find((c) => c.name === first), rest: argv.slice(1) };
}

/**
 * Runs the `slipway` command line `argv` (without node and the script) against `io` and resolves with
 * the exit code: 0 success, 1 failure, 2 bad usage. Errors are printed as their message and what to do.
 */
export async function runCli(argv: string[], io: CliIo, groups: CommandGroup[] = COMMAND_GROUPS): Promise<number> {
  const commands = groups.flatMap((g) => g.commands);
  const debug = Boolean(io.env.SLIPWAY_DEBUG);
  let current: Command | undefined;
  try {
    if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h') {
      io.stdout.write(topHelp(groups, cliVersion()));
      return EXIT.ok;
    }
    if (argv[0] === '--version' || argv[0] === 'version') {
      io.stdout.write(`slipway ${cliVersion()}\n`);
      return EXIT.ok;
    }
    if (argv[0] === 'help') return runCli(argv.length > 1 ? [...argv.slice(1), '--help'] : ['--help'], io, groups);

    const { command, rest, namespace } = findCommand(commands, argv);
    if (namespace) {
      const sub = rest[0];
      if (sub === undefined || sub === '--help' || sub === '-h') {
        // Help asked for goes to stdout; help instead of a missing command is a usage error, on stderr.
        (sub === undefined ? io.stderr : io.stdout).write(namespaceHelp(namespace, commands));
        return sub === undefined ? EXIT.usage : EXIT.ok;
      }
      const names = commands.filter((c) => namespaceOf(c) === namespace).map((c) => c.name.slice(namespace.length + 1));
      const guess = closest(sub, names);
      throw new UsageError(
        `unknown command "${namespace} ${sub}"${guess ? `; did you mean "${namespace} ${guess}"?` : ''}`,
        namespace,
      );
    }
    if (!command) {
      if (argv[0].startsWith('-')) throw new UsageError(`unknown flag ${argv[0]}; flags go after the command`);
      const guess = closest(
        argv[0],
        commands.map((c) => c.name),
      );
      throw new UsageError(`unknown command "${argv[0]}"${guess ? `; did you mean "${guess}"?` : ''}`);
    }
    current = command;
    const parsed = parseCommandLine(command, rest, io.env);
    if (parsed.help) {
      io.stdout.write(commandHelp(command));
      return EXIT.ok;
    }
    return await command.run({ io, args: parsed.args, flags: parsed.flags, command });
  } catch (error) {
    if (error instanceof UsageError && error.command === undefined && current) error.command = current.name;
    const lines = describeError(error, debug);
    const flag =
      error instanceof ApiError && error.problem.field ? current?.apiFields?.[error.problem.field] : undefined;
    if (flag) lines.splice(1, 0, `(the value of ${flag})`);
    io.stderr.write(`${lines.join('\n')}\n`);
    return error instanceof UsageError ? EXIT.usage : EXIT.failed;
  }
}
