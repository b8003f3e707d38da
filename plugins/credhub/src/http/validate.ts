import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { SlipwayError } from '@slipway/contracts';
import { credhubSchemas, type CredhubSchemaName } from './schemas.js';

const ajv = new Ajv({ allErrors: true, strict: false });
const compiled = new Map<CredhubSchemaName, ValidateFunction>();

/**
 * Checks a body against its published schema before the provider sees it, so a wrong type (`"name":
 * true`, `"name": null`) is a 400 naming the field, never a failure deeper down.
 */
export function checkBody<T>(schema: CredhubSchemaName, body: unknown): T {
  let validate = compiled.get(schema);
  if (!validate) {
    validate = ajv.compile(credhubSchemas[schema]);
    compiled.set(schema, validate);
  }
  if (validate(body)) return body as T;
  const problems = (validate.errors ?? []).filter((e) => e.keyword !== 'if' && e.keyword !== 'anyOf').map(describe);
  const first = problems[0] ?? { field: 'body', text: 'body: does not match the schema' };
  throw new SlipwayError(
    'InvalidInput',
    `${first.text}${problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''}`,
    {
      field: first.field,
      details: { errors: problems.map((p) => p.text) },
    },
  );
}

function describe(error: ErrorObject): { field: string; text: string } {
  const path = error.instancePath
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  const params = error.params as Record<string, unknown>;
  if (error.keyword === 'required') path.push(String(params.missingProperty));
  if (error.keyword === 'additionalProperties') path.push(String(params.additionalProperty));
  const field = path.join('.') || 'body';
  const what =
    error.keyword === 'required'
      ? 'is required'
      : error.keyword === 'additionalProperties'
        ? 'is not a known field'
        : error.keyword === 'enum'
          ? `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`
          : (error.message ?? 'is not valid');
  return { field, text: `${field}: ${what}` };
}
