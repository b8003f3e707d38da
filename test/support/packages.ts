import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { promisify } from 'node:util';

export const run = promisify(execFile);
export const repoRoot = join(import.meta.dirname, '..', '..');

/** Every workspace that is published to npm (the e2e workspace in test/ is private). */
export const PUBLISHED_WORKSPACES = [
  'core/contracts',
  'core/pki',
  'core/agent',
  'core/simulation',
  'core/testkit',
  'core/engine',
  'core/dashboard',
  'core/api',
  'core/cli',
  'plugins/credhub',
  'iaas-drivers/sandbox',
  'iaas-drivers/local',
  'iaas-drivers/aws',
  'iaas-drivers/gcp',
  'iaas-drivers/azure',
  'iaas-drivers/openstack',
  'iaas-drivers/vsphere',
  'network-drivers/flat',
  'network-drivers/nsxt',
  'registry-drivers/harbor',
] as const;

export interface PackedPackage {
  workspace: string;
  name: string;
  version: string;
  tarball: string;
  files: string[];
}

/** `npm pack` of every published workspace into `dir`; what each tarball holds, as npm reports it. */
export async function packAll(dir: string): Promise<PackedPackage[]> {
  mkdirSync(dir, { recursive: true });
  const args = ['pack', '--json', '--pack-destination', dir, ...PUBLISHED_WORKSPACES.flatMap((w) => ['-w', w])];
  const { stdout } = await run('npm', args, { cwd: repoRoot, maxBuffer: 64 * 1024 * 1024 });
  const reports = JSON.parse(stdout) as Array<{
    name: string;
    version: string;
    filename: string;
    files: Array<{ path: string }>;
  }>;
  return reports.map((r) => ({
    workspace: PUBLISHED_WORKSPACES.find((w) => manifestOf(w).name === r.name)!,
    name: r.name,
    version: r.version,
    tarball: join(dir, r.filename),
    files: r.files.map((f) => f.path),
  }));
}

export function manifestOf(workspace: string): {
  name: string;
  version: string;
  exports: Record<string, string | Record<string, string>>;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  bin?: Record<string, string>;
} {
  return JSON.parse(readFileSync(join(repoRoot, workspace, 'package.json'), 'utf8'));
}

const BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

/** The package a bare specifier names: `@scope/name/sub` -> `@scope/name`, `name/sub` -> `name`. */
export function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

/** Bare module specifiers a compiled file imports, statically or with a literal `import('...')`. */
export function bareImportsOf(js: string): string[] {
  const found = new Set<string>();
  for (const m of js.matchAll(
    /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^import\s*['"]([^'"]+)['"]/gm,
  )) {
    const spec = m[1] ?? m[2] ?? m[3]!;
    if (spec.startsWith('.') || spec.startsWith('/') || BUILTINS.has(spec) || spec.startsWith('node:')) continue;
    found.add(packageOf(spec));
  }
  return [...found];
}
