import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/**
 * VMs run the compiled agent (`node core/agent/dist/main.js`), as a VM image would; vitest runs sources.
 * Builds the agent (and what `projects` name) with `tsc -b` when a source is newer than its output, so a
 * test never runs an agent older than the code under test. Up to date, this costs about a second.
 */
export function ensureBuilt(projects: string[] = ['core/agent']): void {
  const stale = projects.some((project) => newest(join(REPO, project)) > builtAt(join(REPO, project)));
  if (!stale && existsSync(join(REPO, 'core/agent/dist/main.js'))) return;
  execFileSync(process.execPath, [join(REPO, 'node_modules/typescript/bin/tsc'), '-b', ...projects], {
    cwd: REPO,
    stdio: 'inherit',
    timeout: 300_000,
  });
}

export function repoPath(...parts: string[]): string {
  return join(REPO, ...parts);
}

function newest(project: string): number {
  let latest = 0;
  const dependencies = [project, join(REPO, 'core/contracts'), join(REPO, 'core/agent')];
  for (const dir of dependencies) {
    for (const sub of ['src', 'fake']) latest = Math.max(latest, newestIn(join(dir, sub)));
  }
  return latest;
}

function builtAt(project: string): number {
  const info = join(project, 'tsconfig.tsbuildinfo');
  return existsSync(info) ? statSync(info).mtimeMs : 0;
}

function newestIn(dir: string): number {
  if (!existsSync(dir)) return 0;
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newestIn(path) : statSync(path).mtimeMs);
  }
  return latest;
}
