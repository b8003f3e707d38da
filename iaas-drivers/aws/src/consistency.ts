import type { Clock } from '@slipway/contracts';

interface Entry {
  createdAt: number;
  tags: Record<string, string>;
  /** A Describe call has shown it: EC2 has propagated the id. */
  seen: boolean;
}

/**
 * What this process created within the consistency window. EC2 is eventually consistent: for a while after
 * RunInstances or CreateVolume, Describe* and other calls may answer `*.NotFound` for the new id (AWS documents
 * this and advises waiting). Within the window:
 * - existence checks (hasVm, hasDisk, the inventory) count a NotFound id as existing: a false "gone" makes the
 *   resurrector launch a duplicate VM, a false "exists" only delays it by one check;
 * - calls that act on it (tags, attach, resize) turn a NotFound into Retryable;
 * - deletes treat a NotFound as "not visible yet" only until a Describe has shown the id once; after that a
 *   NotFound is the truth (a delete whose answer was lost is done, and waiting 300 s for it would stall the
 *   engine's retries).
 * In memory only: after a restart the ids are old enough, or the engine's own records cover them.
 */
export class RecentResources {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly clock: Clock,
    private readonly windowMs: number,
  ) {}

  remember(id: string, tags: Record<string, string> = {}): void {
    this.prune();
    this.entries.set(id, { createdAt: this.clock.now(), tags: { ...tags }, seen: false });
  }

  /** A Describe call answered with it. */
  markSeen(id: string): void {
    const entry = this.entries.get(id);
    if (entry) entry.seen = true;
  }

  /** Created moments ago and never shown by EC2 yet: a NotFound for it means nothing. */
  isUnseen(id: string): boolean {
    return this.isYoung(id) && !this.entries.get(id)!.seen;
  }

  /** Tags change (setVmMetadata): the inventory fallback must show the new ones. */
  retag(id: string, tags: Record<string, string>): void {
    const entry = this.entries.get(id);
    if (entry) Object.assign(entry.tags, tags);
  }

  /** The resource was deleted on purpose: a NotFound for it is true from now on. */
  forget(id: string): void {
    this.entries.delete(id);
  }

  isYoung(id: string): boolean {
    const entry = this.entries.get(id);
    if (!entry) return false;
    if (this.clock.now() - entry.createdAt <= this.windowMs) return true;
    this.entries.delete(id);
    return false;
  }

  /** Young ids starting with `prefix` (`i-`, `vol-`) whose tags hold every pair of `tags`. */
  matching(prefix: string, tags: Record<string, string>): Array<{ id: string; tags: Record<string, string> }> {
    this.prune();
    return [...this.entries]
      .filter(([id, entry]) => id.startsWith(prefix) && Object.entries(tags).every(([k, v]) => entry.tags[k] === v))
      .map(([id, entry]) => ({ id, tags: { ...entry.tags } }));
  }

  private prune(): void {
    const oldest = this.clock.now() - this.windowMs;
    for (const [id, entry] of this.entries) if (entry.createdAt < oldest) this.entries.delete(id);
  }
}
