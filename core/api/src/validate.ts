import { Ajv, type ValidateFunction } from 'ajv';
import { SlipwayError, type JsonSchema } from '@slipway/contracts';
import { describeAjvErrors } from '@slipway/engine';
import { checkJsonDepth } from './limits.js';
import { schemas, type SchemaName } from './schemas.js';

const ajv = new Ajv({ allErrors: true, strict: false, verbose: true });
const compiled = new Map<SchemaName, ValidateFunction>();

/** Validates a request body against its published schema; every problem is listed, the first names the field. */
export function validateBody<T>(name: SchemaName, body: unknown): T {
  let validate = compiled.get(name);
  if (!validate) {
    validate = ajv.compile(schemas[name] as JsonSchema);
    compiled.set(name, validate);
  }
  if (!validate(body)) {
    const problems = describeAjvErrors(validate.errors);
    const field = problems[0]?.split(':')[0];
    throw new SlipwayError('InvalidInput', problems.join('; '), { field, details: { errors: problems } });
  }
  return body as T;
}

export async function readJson(request: Request): Promise<unknown> {
  const text = await request.text();
  if (!text) return {};
  checkJsonDepth(text);
  try {
    return JSON.parse(text);
  } catch {
    throw new SlipwayError('InvalidInput', 'the request body is not valid JSON', { hint: 'Send application/json.' });
  }
}
