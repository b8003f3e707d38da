import { Ec2Error, invalidValue, missingParameter } from './errors.js';

type Node = { [key: string]: Node | string };

/**
 * The parameters of an EC2 Query API request. EC2 flattens lists and structures into dotted names with 1-based
 * indexes (`TagSpecification.1.Tag.2.Key`, `Filter.1.Value.1`, `InstanceId.1`); this reads them back as a tree.
 */
export class QueryArgs {
  private readonly root: Node;

  constructor(params: URLSearchParams | Node) {
    if (params instanceof URLSearchParams) {
      this.root = {};
      for (const [key, value] of params) setPath(this.root, key.split('.'), value);
    } else {
      this.root = params;
    }
  }

  /** The raw value of a top-level or dotted name. */
  str(name: string): string | undefined {
    const value = this.node(name);
    return typeof value === 'string' ? value : undefined;
  }

  required(name: string): string {
    const value = this.str(name);
    if (value === undefined || value === '') throw missingParameter(name);
    return value;
  }

  int(name: string): number | undefined {
    const value = this.str(name);
    if (value === undefined) return undefined;
    if (!/^-?\d+$/.test(value)) throw invalidValue(name, value);
    return Number(value);
  }

  bool(name: string): boolean | undefined {
    const value = this.str(name);
    if (value === undefined) return undefined;
    if (value !== 'true' && value !== 'false') throw invalidValue(name, value);
    return value === 'true';
  }

  /** A list of strings (`InstanceId.1`, `InstanceId.2`). */
  strings(name: string): string[] {
    return this.items(name)
      .map((item) => (typeof item === 'string' ? item : ''))
      .filter((s) => s !== '');
  }

  /** A list of structures (`Filter.1.Name`...). */
  list(name: string): QueryArgs[] {
    return this.items(name).map((item) => new QueryArgs(typeof item === 'string' ? {} : item));
  }

  /** A nested structure (`Placement.AvailabilityZone`). */
  struct(name: string): QueryArgs | undefined {
    const value = this.node(name);
    return value && typeof value === 'object' ? new QueryArgs(value) : undefined;
  }

  /** Every parameter under this node, flattened again, for idempotency fingerprints. */
  flatten(exclude: ReadonlySet<string> = new Set()): string {
    const pairs: string[] = [];
    const walk = (node: Node, prefix: string) => {
      for (const key of Object.keys(node).sort()) {
        const path = prefix ? `${prefix}.${key}` : key;
        if (exclude.has(path)) continue;
        const value = node[key]!;
        if (typeof value === 'string') pairs.push(`${path}=${value}`);
        else walk(value, path);
      }
    };
    walk(this.root, '');
    return pairs.join('&');
  }

  private node(name: string): Node | string | undefined {
    let current: Node | string | undefined = this.root;
    for (const part of name.split('.')) {
      if (current === undefined || typeof current === 'string') return undefined;
      current = current[part];
    }
    return current;
  }

  private items(name: string): Array<Node | string> {
    const node = this.node(name);
    if (node === undefined) return [];
    if (typeof node === 'string')
      throw new Ec2Error('InvalidParameterValue', `The parameter ${name} must be a list (${name}.1, ${name}.2...)`);
    return Object.keys(node)
      .filter((k) => /^\d+$/.test(k))
      .sort((a, b) => Number(a) - Number(b))
      .map((k) => node[k]!);
  }
}

function setPath(node: Node, parts: string[], value: string): void {
  const [head, ...rest] = parts;
  if (head === undefined) return;
  if (rest.length === 0) {
    node[head] = value;
    return;
  }
  let child = node[head];
  if (child === undefined || typeof child === 'string') {
    child = {};
    node[head] = child;
  }
  setPath(child, rest, value);
}
