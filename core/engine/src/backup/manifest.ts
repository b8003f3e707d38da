import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

export const MANIFEST_FILE = 'manifest.json';
/** `sha256sum -c SHA256SUMS` checks a backup without Slipway. */
export const CHECKSUMS_FILE = 'SHA256SUMS';
export const BACKUP_FORMAT = 'slipway-backup/1';

/** One plugin instance whose state is in the backup. */
export interface BackedUpPlugin {
  kind: string;
  instance: string;
  plugin: string;
  version: string;
  /** Its data directory, relative to the home and to the backup. */
  data_dir: string;
  /** The encryption keys its data is sealed under (ids, never keys): a restore needs every one configured. */
  key_ids?: string[];
}

export interface BackupFile {
  /** Relative to the backup directory, with forward slashes; the same path in the home. */
  path: string;
  bytes: number;
  sha256: string;
}

export interface BackupManifest {
  format: typeof BACKUP_FORMAT;
  created_at: string;
  slipway_version: string;
  /** The home it was taken from (informational: a restore may go elsewhere). */
  home: string;
  store: { engine: 'sqlite' | 'postgres'; file: string; migration: string | null };
  plugins: BackedUpPlugin[];
  /** The config it ran with, when included (`slipway.yaml` in the backup). */
  config?: string;
  files: BackupFile[];
  /** How long taking it took, in milliseconds. */
  duration_ms: number;
}

export async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** `sha256sum` format: `HEX  PATH` per line. */
export function formatChecksums(entries: Array<{ path: string; sha256: string }>): string {
  return entries.map((e) => `${e.sha256}  ${e.path}\n`).join('');
}

export function parseChecksums(text: string): Map<string, string> {
  const sums = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]{64}) [ *](.+)$/.exec(line.trim());
    if (m) sums.set(m[2]!, m[1]!);
  }
  return sums;
}
