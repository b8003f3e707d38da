import { ERROR_CODES } from '@slipway/contracts';
import { configSchema } from '@slipway/engine';
import { openApiDocument } from '@slipway/api';
import { credhubOpenApi } from '@slipway/credentials-credhub/http';
import { COMMAND_GROUPS, commandHelp, topHelp } from '@slipway/cli';

/**
 * The reference pages generated from the code's own tables and schemas, so docs cannot drift:
 * `npm run docs` writes them, and test/docs.test.ts fails when a page is stale.
 */
export function errorsPage(): string {
  const rows = Object.entries(ERROR_CODES).map(
    ([code, e]) =>
      `| \`${code}\` | ${e.status} | ${e.retryable ? 'yes' : 'no'} | ${e.meaning} | ${e.solve.replace(/\|/g, '\\|')} |`,
  );
  return `# Errors

<!-- generated from ERROR_CODES in core/contracts/src/errors.ts by \`npm run docs\`; do not edit -->

Every failure in Slipway is one \`SlipwayError\` with a code from this table. The REST API answers with
\`application/problem+json\` (\`code\`, \`detail\`, \`field\` when an input field is at fault, \`hint\`); the CLI prints
the message and the hint, never a stack trace, and exits 1. Plugins map their cloud's errors to these codes in
one place (their \`errors.ts\`); the engine retries what is retryable, with backoff, and nothing else.

| code | HTTP | retried | meaning | how to solve |
|---|---|---|---|---|
${rows.join('\n')}
`;
}

type Schema = Record<string, any>;

function typeOf(s: Schema): string {
  if (s.enum) return s.enum.map((v: unknown) => JSON.stringify(v)).join(' \\| ');
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.oneOf) return s.oneOf.map(typeOf).join(' or ');
  if (s.type === 'array') return `array of ${s.items ? typeOf(s.items) : 'any'}`;
  return Array.isArray(s.type) ? s.type.join(' \\| ') : (s.type ?? 'any');
}

function fieldRows(schema: Schema, prefix: string, out: string[]): void {
  const required = new Set<string>(schema.required ?? []);
  for (const [key, raw] of Object.entries<Schema>(schema.properties ?? {})) {
    const s = raw.type === 'array' && raw.items?.properties ? raw.items : raw;
    const path = raw.type === 'array' && raw.items?.properties ? `${prefix}${key}[]` : `${prefix}${key}`;
    const facts = [
      required.has(key) ? 'required' : '',
      raw.default !== undefined && typeof raw.default !== 'object' ? `default \`${JSON.stringify(raw.default)}\`` : '',
      raw.pattern ? `pattern \`${raw.pattern}\`` : '',
      raw.minimum !== undefined ? `min ${raw.minimum}` : '',
      raw.maximum !== undefined ? `max ${raw.maximum}` : '',
    ]
      .filter(Boolean)
      .join(', ');
    out.push(`| \`${path}\` | ${typeOf(raw)} | ${facts} | ${(raw.description ?? '').replace(/\|/g, '\\|')} |`);
    if (s.properties) fieldRows(s, `${path}.`, out);
  }
}

export function configurationPage(): string {
  const rows: string[] = [];
  fieldRows(configSchema as Schema, '', rows);
  return `# Configuration reference: slipway.yaml

<!-- generated from configSchema in core/engine/src/config/schema.ts by \`npm run docs\`; do not edit -->

\`slipway up\` reads \`--config FILE\`, else \`$SLIPWAY_CONFIG\`, else \`$SLIPWAY_HOME/slipway.yaml\` (written with
comments on the first start). \`slipway validate [FILE]\` checks a file and every plugin it names without starting
anything; every problem is reported at once with its path (\`iaas[0].config.region: must be string\`).

Each plugin reference (\`credentials\`, \`iaas[]\`, \`network\`, \`registry\`) names an npm package and a semver
range; its \`config\` is validated against the plugin's own JSON Schema (see each driver's README).

| field | type | constraints | meaning |
|---|---|---|---|
${rows.join('\n')}

Environment variables: \`SLIPWAY_HOME\` (state directory, default \`./.slipway\`), \`SLIPWAY_PORT\` (overrides
\`api.port\`), \`SLIPWAY_CONFIG\`, \`SLIPWAY_ADMIN_PASSWORD\` (the admin password on the first start),
\`SLIPWAY_LOG_LEVEL=debug\`.
`;
}

export function apiPage(): string {
  const doc = openApiDocument('current', [credhubOpenApi()]) as {
    paths: Record<
      string,
      Record<string, { summary?: string; requestBody?: { content?: Record<string, { schema?: { $ref?: string } }> } }>
    >;
  };
  const rows: string[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (method === 'parameters') continue;
      const body = op.requestBody?.content
        ? Object.values(op.requestBody.content)[0]?.schema?.$ref?.split('/').pop()
        : undefined;
      rows.push(`| ${method.toUpperCase()} | \`${path}\` | ${op.summary ?? ''} | ${body ? `\`${body}\`` : ''} |`);
    }
  }
  return `# REST API

<!-- generated from core/api/src/openapi.ts by \`npm run docs\`; do not edit -->

The API is shaped like the PKS v1 API. \`GET /openapi.json\` serves the full OpenAPI 3.1 document; request
bodies are validated against the same schemas it publishes. Authenticate with an OAuth2 password grant at
\`POST /oauth/token\` and send \`Authorization: Bearer TOKEN\`. Errors are \`application/problem+json\`
(see [errors.md](errors.md)). Long operations answer \`202\` with the cluster and a \`Location: /v1/tasks/{id}\`.
Every route has a body limit (8 KiB under \`/oauth/\`, 1 MiB elsewhere; over it, \`413 PayloadTooLarge\` names the
limit), JSON bodies nest at most 32 levels, and numeric ids take only their canonical spelling (\`01\` and \`%201\` are
400). The CredHub API of the credential provider is served under \`/api/\` with the same bearer tokens.

Roles (PKS's UAA scopes): \`clusters.admin\` may do everything; \`clusters.admin.read\` may read everything;
\`clusters.manage\` may create clusters and see and change only the clusters it created (others' clusters and
tasks answer 404, so their names do not leak).

| method | path | what it does | body |
|---|---|---|---|
${rows.join('\n')}
`;
}

export function cliPage(): string {
  const sections = COMMAND_GROUPS.map((group) =>
    [
      `## ${group.title}`,
      ...group.commands.map(
        (command) => `### slipway ${command.name}\n\n\`\`\`\n${commandHelp(command).trimEnd()}\n\`\`\``,
      ),
    ].join('\n\n'),
  );
  return `# CLI reference

<!-- generated from the command registry in core/cli/src/commands by \`npm run docs\`; do not edit -->

This page is what \`slipway --help\` and \`slipway CMD --help\` print.

\`\`\`
${topHelp(COMMAND_GROUPS, 'VERSION').trimEnd()}
\`\`\`

${sections.join('\n\n')}
`;
}

export const GENERATED_PAGES: Record<string, () => string> = {
  'docs/cli.md': cliPage,
  'docs/errors.md': errorsPage,
  'docs/configuration.md': configurationPage,
  'docs/api.md': apiPage,
};
