import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { TOKEN_ISSUER, TOKEN_SERVICE } from './token.js';

/** Where Debian's `docker-registry` package puts distribution's registry binary. */
export const DOCKER_REGISTRY_BINARY = process.env.SLIPWAY_DOCKER_REGISTRY ?? '/usr/bin/docker-registry';

/**
 * distribution's registry as a child process on 127.0.0.1, plain HTTP (only the fake, on the same machine,
 * talks to it), filesystem storage in `dir`, and token auth whose tokens only the fake can sign.
 */
export class RegistryProcess {
  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
    readonly storageDir: string,
    private readonly output: string[],
  ) {}

  static async start(options: { dir: string; realm: string; rootCertPath: string }): Promise<RegistryProcess> {
    const port = await freePort();
    const storageDir = join(options.dir, 'storage');
    const config = [
      'version: 0.1',
      'log:',
      '  level: warn',
      '  accesslog: { disabled: true }',
      'storage:',
      `  filesystem: { rootdirectory: ${JSON.stringify(storageDir)} }`,
      '  delete: { enabled: true }',
      '  maintenance: { uploadpurging: { enabled: false } }',
      'http:',
      `  addr: 127.0.0.1:${port}`,
      // Locations relative to the request, so they stay right behind the fake's proxy.
      '  relativeurls: true',
      'auth:',
      '  token:',
      `    realm: ${JSON.stringify(options.realm)}`,
      `    service: ${TOKEN_SERVICE}`,
      `    issuer: ${TOKEN_ISSUER}`,
      `    rootcertbundle: ${JSON.stringify(options.rootCertPath)}`,
      '',
    ].join('\n');
    const configPath = join(options.dir, 'config.yml');
    await writeFile(configPath, config, { mode: 0o600 });
    const output: string[] = [];
    const child = spawn(DOCKER_REGISTRY_BINARY, ['serve', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (chunk: Buffer) => {
      output.push(chunk.toString());
      if (output.length > 50) output.shift();
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const spawned = await new Promise<Error | undefined>((resolve) => {
      child.once('spawn', () => resolve(undefined));
      child.once('error', (error) => resolve(error));
    });
    if (spawned)
      throw new Error(`cannot start ${DOCKER_REGISTRY_BINARY} (Debian package docker-registry): ${spawned.message}`);
    const registry = new RegistryProcess(child, `http://127.0.0.1:${port}`, storageDir, output);
    await registry.waitUntilServing();
    return registry;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  private async waitUntilServing(): Promise<void> {
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`docker-registry exited: ${this.output.join('').slice(-2000)}`);
      try {
        // Token auth on: an anonymous /v2/ is 401 once the registry serves.
        const res = await fetch(`${this.url}/v2/`);
        await res.arrayBuffer();
        if (res.status === 401) return;
      } catch {
        // not listening yet
      }
      await delay(50);
    }
    await this.stop();
    throw new Error(`docker-registry did not serve within 15 s: ${this.output.join('').slice(-2000)}`);
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  }
}

/** A port the OS says is free now (the registry binds it a moment later; loopback ports are not contended here). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
