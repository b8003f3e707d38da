import { flagsOf, namespaceOf, type Command, type CommandGroup, type FlagSpec } from './registry.js';

function flagLabel(name: string, spec: FlagSpec): string {
  const long = `--${name}${spec.type === 'string' ? ` ${spec.valueName ?? 'VALUE'}` : ''}`;
  return spec.short ? `-${spec.short}, ${long}` : `    ${long}`;
}

function twoColumns(rows: Array<[string, string]>, indent = '  '): string[] {
  const width = Math.max(0, ...rows.map(([left]) => left.length));
  return rows.map(([left, right]) => `${indent}${left.padEnd(width)}   ${right}`.trimEnd());
}

/** The synopsis: `slipway create-cluster NAME --plan PLAN --external-hostname HOST [flags]`. */
export function usageLine(command: Command): string {
  const parts = [`slipway ${command.name}`];
  for (const arg of command.args ?? []) parts.push(arg.required ? arg.name : `[${arg.name}]`);
  for (const [name, spec] of Object.entries(command.flags ?? {})) {
    if (spec.required) parts.push(`--${name}${spec.type === 'string' ? ` ${spec.valueName ?? 'VALUE'}` : ''}`);
  }
  parts.push('[flags]');
  return parts.join(' ');
}

/** `slipway CMD --help`: every argument and flag, with the environment variables that stand in for them. */
export function commandHelp(command: Command): string {
  const lines = [`Usage: ${usageLine(command)}`, '', command.summary];
  if (command.description) lines.push('', ...command.description.split('\n'));
  if (command.args?.length) {
    lines.push(
      '',
      'Arguments:',
      ...twoColumns(command.args.map((a) => [a.name, `${a.description}${a.required ? '' : ' (optional)'}`])),
    );
  }
  const flags = Object.entries(flagsOf(command)).map(([name, spec]): [string, string] => {
    const notes = [spec.required ? 'required' : '', spec.env ? `env ${spec.env}` : ''].filter(Boolean);
    return [flagLabel(name, spec), `${spec.description}${notes.length ? ` (${notes.join('; ')})` : ''}`];
  });
  lines.push('', 'Flags:', ...twoColumns(flags));
  if (command.examples?.length) lines.push('', 'Examples:', ...command.examples.map((e) => `  ${e}`));
  return `${lines.join('\n')}\n`;
}

/** `slipway --help`: every command by group. */
export function topHelp(groups: CommandGroup[], version: string): string {
  const lines = [
    `slipway ${version}: Kubernetes clusters on demand, on your own clouds.`,
    '',
    'Usage: slipway COMMAND [ARGS] [flags]',
  ];
  for (const group of groups) {
    lines.push('', `${group.title}:`, ...twoColumns(group.commands.map((c) => [c.name, c.summary])));
  }
  lines.push(
    '',
    'Global flags:',
    ...twoColumns([
      ['-h, --help', 'help for slipway or for a command (slipway CMD --help)'],
      ['    --version', 'print the version of this CLI'],
    ]),
    '',
    "Read commands take --json to print the API's JSON unchanged.",
    'Exit codes: 0 success, 1 the operation failed, 2 the command line was wrong.',
    'Environment: SLIPWAY_CLI_CONFIG (login state, default ~/.slipway/cli.json), KUBECONFIG, SLIPWAY_HOME,',
    '  SLIPWAY_PORT, SLIPWAY_CONFIG, SLIPWAY_ADMIN_PASSWORD (slipway up), SLIPWAY_DEBUG=1 (stack traces).',
  );
  return `${lines.join('\n')}\n`;
}

/** `slipway sandbox --help`: the commands inside one namespace. */
export function namespaceHelp(namespace: string, commands: Command[]): string {
  const inside = commands.filter((c) => namespaceOf(c) === namespace);
  const lines = [
    `Usage: slipway ${namespace} COMMAND [ARGS] [flags]`,
    '',
    'Commands:',
    ...twoColumns(inside.map((c) => [c.name, c.summary])),
    '',
    `Run: slipway ${namespace} COMMAND --help`,
  ];
  return `${lines.join('\n')}\n`;
}
