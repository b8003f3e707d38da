import { X509Certificate } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';

/** The agent's client certificate and the key it made for it, with what the agent reads of the certificate. */
export interface AgentCredentials {
  /** The certificate's CN: the agent id (the VM incarnation) it was issued to. */
  agentId: string;
  certPem: string;
  keyPem: string;
  serial: string;
  notBefore: number;
  notAfter: number;
}

/** Where the agent keeps its key and certificate, so a restarted agent needs no new bootstrap token. */
export interface AgentCredentialStore {
  load(): Promise<AgentCredentials | undefined>;
  /** Keeps the certificate and its key; the pending key, if any, goes. */
  save(credentials: AgentCredentials): Promise<void>;
  /**
   * The key made for a bootstrap whose answer was not kept yet. The agent keeps it before it sends the CSR, so
   * an agent that dies in between asks again with the same key and gets the same certificate back.
   */
  loadPendingKey(): Promise<string | undefined>;
  savePendingKey(keyPem: string): Promise<void>;
}

export function credentialsOf(certPem: string, keyPem: string): AgentCredentials {
  const x = new X509Certificate(certPem);
  const cn = /(?:^|\n)CN=([^\n]*)/.exec(x.subject)?.[1] ?? '';
  return {
    agentId: cn,
    certPem,
    keyPem,
    serial: x.serialNumber.toUpperCase(),
    notBefore: Date.parse(x.validFrom),
    notAfter: Date.parse(x.validTo),
  };
}

/** In memory: for an in-process agent whose "VM disk" is the test's memory. */
export class MemoryCredentialStore implements AgentCredentialStore {
  private kept: AgentCredentials | undefined;
  private pendingKey: string | undefined;

  async load(): Promise<AgentCredentials | undefined> {
    return this.kept;
  }

  async save(credentials: AgentCredentials): Promise<void> {
    this.kept = credentials;
    this.pendingKey = undefined;
  }

  async loadPendingKey(): Promise<string | undefined> {
    return this.pendingKey;
  }

  async savePendingKey(keyPem: string): Promise<void> {
    this.pendingKey = keyPem;
  }
}

const PEM_BLOCK = /-----BEGIN ([A-Z ]+)-----[\s\S]+?-----END \1-----\n?/g;

/**
 * `{dir}/client.pem`: certificate then key, one file written atomically (0600 in a 0700 directory), as
 * kubelet keeps `kubelet-client-current.pem`. A file that does not parse counts as none.
 */
export class FileCredentialStore implements AgentCredentialStore {
  constructor(private readonly dir: string) {}

  get path(): string {
    return join(this.dir, 'client.pem');
  }

  async load(): Promise<AgentCredentials | undefined> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    const blocks = [...text.matchAll(PEM_BLOCK)];
    const cert = blocks.find((b) => b[1] === 'CERTIFICATE')?.[0];
    const key = blocks.find((b) => b[1] === 'PRIVATE KEY')?.[0];
    if (!cert || !key) return undefined;
    try {
      return credentialsOf(cert, key);
    } catch {
      return undefined;
    }
  }

  async save(credentials: AgentCredentials): Promise<void> {
    await this.write(this.path, `${credentials.certPem.trimEnd()}\n${credentials.keyPem.trimEnd()}\n`);
    await rm(this.pendingPath, { force: true });
  }

  async loadPendingKey(): Promise<string | undefined> {
    try {
      const text = await readFile(this.pendingPath, 'utf8');
      return text.includes('PRIVATE KEY') ? text : undefined;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async savePendingKey(keyPem: string): Promise<void> {
    await this.write(this.pendingPath, keyPem);
  }

  private get pendingPath(): string {
    return join(this.dir, 'pending-key.pem');
  }

  private async write(path: string, content: string): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const temporary = `${path}.${process.pid}.tmp`;
    const handle = await open(temporary, 'w', 0o600);
    try {
      await handle.writeFile(content);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
  }
}
