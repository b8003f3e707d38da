import { execFile } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
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

/**
 * The versions binaries report of themselves (`etcd --version`), read once per file: a binary replaced in
 * place (another size or modification time) is asked again.
 */
export class BinaryVersions {
  private readonly cache = new Map<string, { stamp: string; version: Promise<string | undefined> }>();

  reported(path: string, args: string[], pattern: RegExp): Promise<string | undefined> {
    let stamp: string;
    try {
      const stat = statSync(path);
      stamp = `${stat.size}:${stat.mtimeMs}`;
    } catch {
      return Promise.resolve(undefined);
    }
    const cached = this.cache.get(path);
    if (cached?.stamp === stamp) return cached.version;
    const version = new Promise<string | undefined>((resolve) => {
      execFile(path, args, { timeout: 10_000, maxBuffer: 64 * 1024 }, (error, stdout) => {
        resolve(error ? undefined : pattern.exec(String(stdout))?.[1]);
      });
    });
    this.cache.set(path, { stamp, version });
    return version;
  }
}
