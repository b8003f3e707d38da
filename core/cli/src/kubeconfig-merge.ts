import { readFile } from 'node:fs/promises';
import { Document, isMap, isScalar, isSeq, parseDocument, type YAMLMap, YAMLSeq } from 'yaml';
import { CliError } from './errors.js';
import { writeFileAtomic } from './files.js';

/** A kubeconfig as the API returns it (POST /v1/clusters/{name}/binds). */
export interface KubeconfigDoc {
  apiVersion?: string;
  kind?: string;
  clusters: Array<{ name: string; [key: string]: unknown }>;
  users: Array<{ name: string; [key: string]: unknown }>;
  contexts: Array<{ name: string; [key: string]: unknown }>;
  'current-context'?: string;
  [key: string]: unknown;
}

const LISTS = ['clusters', 'users', 'contexts'] as const;

/**
 * Merges `incoming` into the kubeconfig text `existing` as kubectl and pks do: clusters, users and
 * contexts by name (an entry of the same name is replaced, every other entry is kept as it was, comments
 * included), current-context set to `context`. Returns the new YAML text.
 */
export function mergeKubeconfig(
  existing: string,
  incoming: KubeconfigDoc,
  context: string,
  file = 'kubeconfig',
): string {
  const doc: Document = existing.trim() ? parseDocument(existing) : new Document({});
  if (doc.errors.length) {
    throw new CliError(
      `${file} is not valid YAML: ${doc.errors[0].message}`,
      'Fix or move the file, then run the command again; slipway does not overwrite a file it cannot read.',
    );
  }
  if (doc.contents === null || doc.contents === undefined) doc.contents = doc.createNode({}) as never;
  if (!isMap(doc.contents))
    throw new CliError(
      `${file} is not a kubeconfig (its top level is not a mapping)`,
      'Fix or move the file, then run the command again.',
    );
  if (!doc.has('apiVersion')) doc.set('apiVersion', incoming.apiVersion ?? 'v1');
  if (!doc.has('kind')) doc.set('kind', incoming.kind ?? 'Config');

  for (const key of LISTS) {
    let seq = doc.get(key, true);
    if (seq === undefined || seq === null || (!isSeq(seq) && isEmptyScalar(seq))) {
      seq = new YAMLSeq();
      doc.set(key, seq);
    }
    if (!isSeq(seq))
      throw new CliError(`${file}: "${key}" is not a list`, 'Fix or move the file, then run the command again.');
    // `clusters: []` is a flow sequence; entries added to it are written as a block list, like kubectl's.
    if (seq.items.length === 0) seq.flow = false;
    for (const entry of incoming[key]) {
      const node = doc.createNode(entry);
      const at = seq.items.findIndex((item) => isMap(item) && (item as YAMLMap).get('name') === entry.name);
      if (at >= 0) seq.items[at] = node;
      else seq.items.push(node);
    }
  }
  doc.set('current-context', context);
  // kubectl's layout: list items at the key's indentation, long base64 values never folded.
  return doc.toString({ lineWidth: 0, indentSeq: false });
}

/** `clusters:` with nothing after it, or `clusters: ~`. */
function isEmptyScalar(node: unknown): boolean {
  return isScalar(node) && (node.value === null || node.value === undefined || node.value === '');
}

/** Reads the kubeconfig at `path` (missing is empty), merges, writes it back atomically with mode 0600. */
export async function mergeKubeconfigFile(path: string, incoming: KubeconfigDoc, context: string): Promise<void> {
  let existing = '';
  try {
    existing = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new CliError(
        `cannot read ${path}: ${(e as Error).message}`,
        'Check its permissions, or point KUBECONFIG at another file.',
      );
  }
  await writeFileAtomic(path, mergeKubeconfig(existing, incoming, context, path), 0o600);
}
