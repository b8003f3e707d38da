import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { RepositoryStore } from './routes.js';

/**
 * Reads the registry's filesystem storage as Harbor reads its database: which repositories a project holds
 * (a directory with `_manifests`), the bytes of their distinct layers, and deleting a repository.
 */
export class FilesystemRepositories implements RepositoryStore {
  constructor(
    private readonly storageDir: string,
    private readonly alive: () => boolean,
  ) {}

  private get root(): string {
    return join(this.storageDir, 'docker', 'registry', 'v2');
  }

  async repositories(project: string): Promise<string[]> {
    return this.walk(project, true);
  }

  /** Repository directories under a project; with `withArtifacts`, only those holding a tag or a manifest. */
  private async walk(project: string, withArtifacts: boolean): Promise<string[]> {
    const out: string[] = [];
    const visit = async (dir: string, name: string, depth: number): Promise<void> => {
      const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
      const isRepository = entries.some((e) => e.isDirectory() && (e.name === '_manifests' || e.name === '_layers'));
      if (isRepository && !withArtifacts) out.push(name);
      if (isRepository && withArtifacts) {
        // A repository whose every tag was deleted still has the directory; Harbor counts it only with artifacts.
        const tags = await readdir(join(dir, '_manifests', 'tags')).catch(() => []);
        const revisions = await readdir(join(dir, '_manifests', 'revisions', 'sha256')).catch(() => []);
        if (tags.length || revisions.length) out.push(name);
      }
      if (depth > 8) return;
      for (const e of entries)
        if (e.isDirectory() && !e.name.startsWith('_')) await visit(join(dir, e.name), `${name}/${e.name}`, depth + 1);
    };
    await visit(join(this.root, 'repositories', project), project, 0);
    return out.filter((n) => n !== project).sort();
  }

  async deleteRepository(name: string): Promise<boolean> {
    const dir = join(this.root, 'repositories', ...name.split('/'));
    const there = await stat(dir).then(
      () => true,
      () => false,
    );
    if (there) await rm(dir, { recursive: true, force: true });
    return there;
  }

  async usedBytes(project: string): Promise<number> {
    const digests = new Set<string>();
    // Every layer uploaded into the project counts, also of a push whose manifest has not arrived yet.
    for (const repo of await this.walk(project, false)) {
      const layers = await readdir(join(this.root, 'repositories', ...repo.split('/'), '_layers', 'sha256')).catch(
        () => [],
      );
      for (const digest of layers) digests.add(digest);
    }
    let total = 0;
    for (const digest of digests) {
      const info = await stat(join(this.root, 'blobs', 'sha256', digest.slice(0, 2), digest, 'data')).catch(
        () => undefined,
      );
      total += info?.size ?? 0;
    }
    return total;
  }

  healthy(): boolean {
    return this.alive();
  }
}
