import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * Finds a job's binaries: in the directories the agent was given (`--bin-dir`), then the image's packages
 * (`{packagesDir}/{package}/{version}/bin`, `{packagesDir}/bin`), then PATH. What is not found makes the job
 * `unavailable` with the places looked in, never a process that fails to start over and over.
 */
export class BinaryLocator {
  constructor(private readonly options: { binDirs: string[]; packagesDir: string; path?: string }) {}

  private pathDirs(): string[] {
    return (this.options.path ?? process.env.PATH ?? '').split(delimiter).filter(Boolean);
  }

  /** Where to look for `binary` of `pkg` at `version`, in order. */
  searchPath(pkg: string, version: string): string[] {
    const fromPath = this.pathDirs();
    return [
      ...this.options.binDirs.flatMap((dir) => [join(dir, version), dir]),
      join(this.options.packagesDir, pkg, version, 'bin'),
      join(this.options.packagesDir, 'bin'),
      ...fromPath,
    ];
  }

  find(binary: string, pkg: string, version: string): { path: string } | { missing: string } {
    const dirs = this.searchPath(pkg, version);
    for (const dir of dirs) {
      const candidate = join(dir, binary);
      try {
        accessSync(candidate, constants.X_OK);
        return { path: candidate };
      } catch {
        // Not here.
      }
    }
    const own = [...new Set(dirs.slice(0, dirs.length - this.pathDirs().length))];
    return { missing: `binary ${binary} (${pkg} ${version}) not found in ${own.join(', ')} or on PATH` };
  }
}
