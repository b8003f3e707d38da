import { Ec2Error } from './errors.js';
import type { QueryArgs } from './query.js';

/** The filter names a Describe action understands, each reading a resource's values for it. */
export type FilterSpec<T> = Record<string, (resource: T) => Array<string | undefined>>;

interface ParsedFilter {
  name: string;
  patterns: RegExp[];
}

/**
 * EC2's `Filter.N.Name` / `Filter.N.Value.M`: a resource matches when, for every filter, one of its values
 * matches one of the filter's values (`*` and `?` are wildcards). `tag:<key>`, `tag-key` and `tag-value` work
 * on every resource with tags. An unknown filter name is refused, as EC2 does.
 */
export function parseFilters<T>(filters: QueryArgs[], spec: FilterSpec<T>): ParsedFilter[] {
  return filters.map((filter) => {
    const name = filter.str('Name') ?? '';
    if (!(name in spec) && !name.startsWith('tag:') && name !== 'tag-key' && name !== 'tag-value') {
      throw new Ec2Error('InvalidParameterValue', `The filter '${name}' is invalid`);
    }
    const values = filter.strings('Value');
    if (values.length === 0)
      throw new Ec2Error('InvalidParameterValue', `The filter '${name}' requires at least one value`);
    return { name, patterns: values.map(globToRegExp) };
  });
}

export function matches<T extends { tags: Map<string, string> }>(
  resource: T,
  filters: ParsedFilter[],
  spec: FilterSpec<T>,
): boolean {
  return filters.every(({ name, patterns }) => {
    let values: Array<string | undefined>;
    if (name.startsWith('tag:')) values = [resource.tags.get(name.slice(4))];
    else if (name === 'tag-key') values = [...resource.tags.keys()];
    else if (name === 'tag-value') values = [...resource.tags.values()];
    else values = spec[name]!(resource);
    return values.some((value) => value !== undefined && patterns.some((p) => p.test(value)));
  });
}

function globToRegExp(value: string): RegExp {
  const escaped = value
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`);
}

/**
 * EC2's MaxResults / NextToken paging over a list that is already filtered. The token is opaque to clients;
 * here it is the offset.
 */
export function page<T>(
  items: T[],
  args: QueryArgs,
  limits: { min: number; max: number },
): { items: T[]; nextToken?: string } {
  const max = args.int('MaxResults');
  const token = args.str('NextToken');
  if (max !== undefined && max < limits.min) {
    throw new Ec2Error(
      'InvalidParameterValue',
      `Value ( ${max} ) for parameter maxResults is invalid. Parameter must be between ${limits.min} and ${limits.max}.`,
    );
  }
  let start = 0;
  if (token !== undefined) {
    const decoded = /^o(\d+)$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
    if (!decoded) throw new Ec2Error('InvalidParameterValue', 'The token is invalid or expired.');
    start = Number(decoded[1]);
  }
  if (max === undefined) return { items: items.slice(start) };
  // Above the action's maximum EC2 answers a page of the maximum, not an error.
  const size = Math.min(max, limits.max);
  const slice = items.slice(start, start + size);
  const next = start + size < items.length ? Buffer.from(`o${start + size}`).toString('base64url') : undefined;
  return { items: slice, ...(next ? { nextToken: next } : {}) };
}

/** Tags from `TagSpecification.N` for one resource type, checked as EC2 checks them. */
export function tagsFromSpecifications(
  args: QueryArgs,
  resourceType: string,
  allowed: readonly string[],
): Map<string, string> {
  const tags = new Map<string, string>();
  for (const spec of args.list('TagSpecification')) {
    const type = spec.str('ResourceType') ?? '';
    if (!allowed.includes(type)) {
      throw new Ec2Error(
        'InvalidParameterValue',
        `'${type}' is not a valid taggable resource type for this operation.`,
      );
    }
    if (type !== resourceType) continue;
    for (const tag of spec.list('Tag')) addTag(tags, tag.str('Key') ?? '', tag.str('Value') ?? '');
  }
  return tags;
}

/** EC2's tag rules: 50 per resource, keys 1-128 characters not starting with `aws:`, values up to 256. */
export function addTag(tags: Map<string, string>, key: string, value: string): void {
  if (key === '' || key.length > 128)
    throw new Ec2Error('InvalidParameterValue', `Tag key exceeds the maximum length of 128 characters or is empty`);
  if (value.length > 256)
    throw new Ec2Error('InvalidParameterValue', `Tag value exceeds the maximum length of 256 characters`);
  if (key.toLowerCase().startsWith('aws:'))
    throw new Ec2Error('InvalidParameterValue', `Tag keys starting with 'aws:' are reserved for internal use`);
  tags.set(key, value);
  if (tags.size > 50)
    throw new Ec2Error('TagLimitExceeded', 'The maximum number of Tags for a resource has been reached.');
}
