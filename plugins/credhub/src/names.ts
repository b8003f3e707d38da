import { SlipwayError } from '@slipway/contracts';

const NAME = /^[A-Za-z0-9_.\-/]+$/;
const MAX_NAME = 1024;

/**
 * CredHub's name rules: letters, digits, `_ . -` and `/` separators, no `//`, no trailing `/`, at most
 * 1024 characters. `a/b` and `/a/b` are the same credential.
 */
export function normalizeName(name: unknown, field = 'name'): string {
  if (typeof name !== 'string' || !name) {
    throw new SlipwayError(
      'InvalidInput',
      'A credential name must be provided. Please validate your input and retry your request.',
      { field },
    );
  }
  if (name.length > MAX_NAME)
    throw new SlipwayError('InvalidInput', `credential names cannot exceed ${MAX_NAME} characters`, { field });
  if (!NAME.test(name)) {
    throw new SlipwayError(
      'InvalidInput',
      `credential name "${name}" is not valid: use letters, digits, _ . - and / separators`,
      { field },
    );
  }
  if (name.includes('//') || (name.length > 1 && name.endsWith('/')) || name === '/') {
    throw new SlipwayError(
      'InvalidInput',
      `credential name "${name}" cannot end with "/" or contain "//": use /path/name`,
      { field },
    );
  }
  return name.startsWith('/') ? name : `/${name}`;
}

/** A path prefix for find: `/` or `/a/b` (with or without a trailing slash), as `/a/b/`. */
export function normalizePrefix(path: unknown, field = 'path'): string {
  if (typeof path !== 'string')
    throw new SlipwayError('InvalidInput', 'The query parameter path is required for this request.', { field });
  if (path === '' || path === '/') return '/';
  const trimmed = path.endsWith('/') ? path.slice(0, -1) : path;
  return `${normalizeName(trimmed, field)}/`;
}

/**
 * A permission path: an exact credential name, or a prefix pattern ending in `/*` (`/*` is everything).
 * As in CredHub, `*` is allowed only as the last segment.
 */
export function normalizePermissionPath(path: unknown, field = 'path'): string {
  if (typeof path !== 'string' || !path) {
    throw new SlipwayError(
      'InvalidInput',
      'You must specify a path. Please validate your input and retry your request.',
      { field },
    );
  }
  const withSlash = path.startsWith('/') ? path : `/${path}`;
  if (withSlash === '/*') return withSlash;
  if (withSlash.endsWith('/*')) return `${normalizeName(withSlash.slice(0, -2), field)}/*`;
  if (withSlash.includes('*')) {
    throw new SlipwayError('InvalidInput', `permission path "${path}" may use "*" only as its last segment (/a/b/*)`, {
      field,
    });
  }
  return normalizeName(withSlash, field);
}

/** The permission paths that cover `name`: the name itself and `/*`, `/a/*`, `/a/b/*` ... for each parent. */
export function coveringPaths(name: string): string[] {
  const paths = [name];
  for (let i = 0; i < name.length; i++) if (name[i] === '/') paths.push(`${name.slice(0, i + 1)}*`);
  return paths;
}

/** Whether a permission path (name or `/prefix/*`) covers `name`. */
export function pathCovers(path: string, name: string): boolean {
  return path.endsWith('/*') ? name.startsWith(path.slice(0, -1)) : path === name;
}
