import { createHash } from 'node:crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { RenderedFile } from './job-definition.js';

/**
 * Writes a job's rendered files: directories 0700 (a job's tls/ holds keys), each file with its own mode
 * (0600 for keys and kubeconfigs), atomically (temp file + rename) and only when its content changed, so an
 * agent that restarts and renders the same config does not touch what running processes read.
 */
export async function writeJobFiles(files: RenderedFile[], directories: string[] = []): Promise<string> {
  for (const dir of directories) await ensureDir(dir);
  for (const file of files) {
    await ensureDir(dirname(file.path));
    const current = await readFile(file.path, 'utf8').catch(() => undefined);
    if (current === file.content) {
      await chmod(file.path, file.mode);
      continue;
    }
    const temp = `${file.path}.${process.pid}.tmp`;
    await writeFile(temp, file.content, { mode: file.mode });
    await chmod(temp, file.mode);
    await rename(temp, file.path);
  }
  return digest(files);
}

/** A digest of what was rendered: when it changes, the job's processes restart to read it. */
export function digest(files: RenderedFile[]): string {
  const hash = createHash('sha256');
  for (const file of [...files].sort((a, b) => a.path.localeCompare(b.path))) {
    hash.update(file.path).update('\0').update(String(file.mode)).update('\0').update(file.content).update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

async function ensureDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
}
