import type { ErrorObject } from 'ajv';

/** `/iaas/0/config/region` → `iaas[0].config.region` */
export function jsonPathOf(instancePath: string, prefix = ''): string {
  let path = prefix;
  for (const part of instancePath.split('/').slice(1)) {
    const key = part.replace(/~1/g, '/').replace(/~0/g, '~');
    path += /^\d+$/.test(key) ? `[${key}]` : path ? `.${key}` : key;
  }
  return path;
}

/** One line per ajv error, naming the path and what is wrong. */
export function describeAjvErrors(errors: ErrorObject[] | null | undefined, prefix = ''): string[] {
  return (errors ?? []).map((e) => {
    let path = jsonPathOf(e.instancePath, prefix);
    let message = e.message ?? 'is invalid';
    if (e.keyword === 'additionalProperties') {
      const extra = (e.params as { additionalProperty: string }).additionalProperty;
      path = path ? `${path}.${extra}` : extra;
      message = 'is not a known field (check its spelling)';
    } else if (e.keyword === 'required') {
      const missing = (e.params as { missingProperty: string }).missingProperty;
      path = path ? `${path}.${missing}` : missing;
      message = 'is required';
    } else if (
      e.keyword === 'pattern' &&
      typeof (e.parentSchema as { description?: unknown } | undefined)?.description === 'string'
    ) {
      // A regex says little to a user; the schema's description says what is allowed (needs ajv `verbose`).
      message = `must be ${(e.parentSchema as { description: string }).description} (got ${JSON.stringify(e.data)})`;
    } else if (
      e.keyword === 'minimum' &&
      /^at least /.test(String((e.parentSchema as { description?: unknown } | undefined)?.description ?? ''))
    ) {
      // `must be >= 1` says less than the schema's own words (`at least 1 (a cluster needs a worker ...)`).
      message = `must be ${(e.parentSchema as { description: string }).description} (got ${JSON.stringify(e.data)})`;
    } else if (e.keyword === 'enum') {
      message = `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
    }
    return `${path || '(root)'}: ${message}`;
  });
}
