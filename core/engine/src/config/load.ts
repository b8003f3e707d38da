import { readFile } from 'node:fs/promises';
import { Ajv } from 'ajv';
import { parseDocument } from 'yaml';
import { SlipwayError } from '@slipway/contracts';
import { describeAjvErrors } from './ajv-errors.js';
import { configSchema, type SlipwayConfig } from './schema.js';

export { describeAjvErrors, jsonPathOf } from './ajv-errors.js';

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false, verbose: true });
const validateShape = ajv.compile(configSchema);

/** Checks cross-references the schema cannot express. */
function checkReferences(config: SlipwayConfig): string[] {
  const errors: string[] = [];
  const targets = new Set<string>();
  config.iaas.forEach((t, i) => {
    if (targets.has(t.name)) errors.push(`iaas[${i}].name: "${t.name}" is used twice; give each target its own name`);
    targets.add(t.name);
  });
  const plans = new Set<string>();
  config.plans.forEach((p, i) => {
    if (plans.has(p.name)) errors.push(`plans[${i}].name: "${p.name}" is used twice`);
    plans.add(p.name);
    if (!targets.has(p.iaas))
      errors.push(`plans[${i}].iaas: "${p.iaas}" is not an iaas target; known: ${[...targets].join(', ')}`);
    if (p.worker_instances > p.max_worker_instances) {
      errors.push(
        `plans[${i}].worker_instances: ${p.worker_instances} exceeds max_worker_instances ${p.max_worker_instances}`,
      );
    }
  });
  return errors;
}

/** Validates a parsed config object, filling defaults. Returns every problem at once. */
export function validateConfig(raw: unknown): { config?: SlipwayConfig; errors: string[] } {
  const copy = structuredClone(raw ?? {});
  if (!validateShape(copy)) return { errors: describeAjvErrors(validateShape.errors) };
  const config = copy as SlipwayConfig;
  const errors = checkReferences(config);
  return errors.length ? { errors } : { config: deepFreeze(config), errors: [] };
}

export function parseConfigText(text: string, file: string): unknown {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length) {
    throw new SlipwayError(
      'InvalidConfig',
      `${file} is not valid YAML:\n${doc.errors.map((e) => e.message).join('\n')}`,
      { field: file },
    );
  }
  return doc.toJS();
}

/** Reads and validates slipway.yaml; throws InvalidConfig listing every problem. */
export async function loadConfigFile(file: string): Promise<SlipwayConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new SlipwayError('InvalidConfig', `cannot read config ${file}: ${(e as Error).message}`, {
      cause: e,
      hint: 'Pass --config FILE or set SLIPWAY_CONFIG.',
    });
  }
  const { config, errors } = validateConfig(parseConfigText(text, file));
  if (!config) {
    throw new SlipwayError('InvalidConfig', `${file} is invalid:\n  ${errors.join('\n  ')}`, { details: { errors } });
  }
  return config;
}

/**
 * `slipway validate`: the file's own schema, then each plugin's (resolving and importing the plugins, but
 * calling no `create`). Nothing is started.
 */
export async function validateConfigFile(file: string): Promise<{ ok: boolean; errors: string[] }> {
  try {
    const config = await loadConfigFile(file);
    const { PluginLoader } = await import('../plugins/loader.js');
    const errors = await new PluginLoader({ searchDirs: config.plugin_dirs, configDir: file }).checkAll(config);
    return { ok: errors.length === 0, errors };
  } catch (e) {
    const err = SlipwayError.from(e);
    const errors = (err.details?.errors as string[] | undefined) ?? [err.message];
    return { ok: false, errors };
  }
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
