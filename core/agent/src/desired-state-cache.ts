import { createPublicKey, sign, verify, X509Certificate } from 'node:crypto';
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { DesiredState, Logger } from '@slipway/contracts';
import type { AgentCredentials } from './identity/identity-store.js';

/** The format of the file; a reader refuses any other. */
export const DESIRED_STATE_FORMAT = 'slipway-desired-state/1';

/** What is signed: the desired state and whom it was for. */
interface CachedPayload {
  format: typeof DESIRED_STATE_FORMAT;
  /** The VM incarnation (agent id) that applied it: a copy from another incarnation is refused. */
  agentId: string;
  savedAt: string;
  desired: DesiredState;
}

/** The file: the payload as the exact bytes signed, and its signature. */
interface CachedFile {
  payload: string;
  /** RSASSA/ECDSA-SHA256 of `payload` by the agent's own key, base64. */
  signature: string;
}

/** Why a kept copy is not used (logged; the agent then waits for the control plane as before). */
export type CacheRefusal = 'none' | 'unreadable' | 'bad-format' | 'no-credentials' | 'bad-signature' | 'other-agent';

/**
 * The agent's last applied desired state, kept on the VM's disk (0600, written atomically) so that after a
 * reboot with the control plane unreachable it can mount its persistent disk and start its jobs from it, and
 * reconcile once the control plane answers.
 *
 * Signed with the agent's own key, verified with the certificate it holds now. Why not the control plane's
 * CA: the CA key never leaves the control plane and the sync protocol carries no signature, so the agent
 * could only verify what the control plane signed if every reply carried one; the agent's key is on this VM
 * already (0600 beside it), and its certificate is bound to this VM incarnation (CN = agent id). The
 * signature makes a truncated, edited or foreign copy (another VM's, an older incarnation's) fail closed;
 * it does not defend against root on the VM, who can read the key and start processes anyway. After the
 * agent renews its certificate (a new key), the copy is signed again.
 */
export class DesiredStateCache {
  constructor(
    private readonly file: string,
    private readonly logger?: Logger,
  ) {}

  get path(): string {
    return this.file;
  }

  async save(desired: DesiredState, credentials: AgentCredentials, at: number): Promise<void> {
    const payload: CachedPayload = {
      format: DESIRED_STATE_FORMAT,
      agentId: credentials.agentId,
      savedAt: new Date(at).toISOString(),
      desired,
    };
    const bytes = JSON.stringify(payload);
    const signature = sign('sha256', Buffer.from(bytes), credentials.keyPem).toString('base64');
    const content: CachedFile = { payload: bytes, signature };
    await mkdir(dirname(this.file), { recursive: true, mode: 0o700 });
    const temporary = `${this.file}.${process.pid}.tmp`;
    const handle = await open(temporary, 'w', 0o600);
    try {
      await handle.writeFile(JSON.stringify(content));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, this.file);
  }

  /** The kept desired state when it verifies for `agentId` under `credentials`, else why not. */
  async load(
    agentId: string,
    credentials: AgentCredentials | undefined,
  ): Promise<{ desired: DesiredState; savedAt: string } | { refused: CacheRefusal }> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      return { refused: (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'none' : 'unreadable' };
    }
    let file: CachedFile;
    let payload: CachedPayload;
    try {
      file = JSON.parse(text) as CachedFile;
      payload = JSON.parse(file.payload) as CachedPayload;
    } catch {
      return this.refuse('bad-format');
    }
    if (payload.format !== DESIRED_STATE_FORMAT || typeof file.signature !== 'string' || !payload.desired)
      return this.refuse('bad-format');
    if (!credentials) return this.refuse('no-credentials');
    const key = createPublicKey(
      new X509Certificate(credentials.certPem).publicKey.export({ type: 'spki', format: 'pem' }),
    );
    if (!verify('sha256', Buffer.from(file.payload), key, Buffer.from(file.signature, 'base64')))
      return this.refuse('bad-signature');
    if (payload.agentId !== agentId || credentials.agentId !== agentId) return this.refuse('other-agent');
    return { desired: payload.desired, savedAt: payload.savedAt };
  }

  private refuse(reason: CacheRefusal): { refused: CacheRefusal } {
    this.logger?.warn('the kept desired state is not used', { file: this.file, reason });
    return { refused: reason };
  }
}
