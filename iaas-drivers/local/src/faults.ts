import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';

/** How an injected fault makes a host operation fail: with the errno the machine would give. */
export type HostFaultKind = 'throttle' | 'server' | 'permanent';

/**
 * Faults to rehearse, kept in `{root}/faults.json` so that whoever holds the root (the conformance fake, an
 * operator with `slipway sandbox`) can inject them while the driver runs: queued failures per verb,
 * latency, random failure rates and quotas. No file, no faults.
 */
export interface FaultFile {
  queued?: Record<string, Array<{ kind: HostFaultKind; message?: string }>>;
  latencyMs?: number;
  rates?: { throttle?: number; serverError?: number };
  quota?: { vms?: number; disks?: number };
}

export class HostFaults {
  private cached: { mtimeMs: number; size: number; faults: FaultFile } | undefined;

  constructor(readonly file: string) {}

  read(): FaultFile {
    let stat;
    try {
      stat = statSync(this.file);
    } catch {
      this.cached = undefined;
      return {};
    }
    if (this.cached && this.cached.mtimeMs === stat.mtimeMs && this.cached.size === stat.size)
      return this.cached.faults;
    let faults: FaultFile = {};
    try {
      faults = JSON.parse(readFileSync(this.file, 'utf8')) as FaultFile;
    } catch {
      // Being rewritten: no faults this time.
    }
    this.cached = { mtimeMs: stat.mtimeMs, size: stat.size, faults };
    return faults;
  }

  /** Takes the next queued fault of `verb`, if any (consumed: written back without it). */
  take(verb: string): { kind: HostFaultKind; message?: string } | undefined {
    const faults = this.read();
    const queue = faults.queued?.[verb];
    if (!queue?.length) return undefined;
    const next = queue.shift();
    this.write(faults);
    return next;
  }

  write(faults: FaultFile): void {
    const temp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(temp, JSON.stringify(faults));
    renameSync(temp, this.file);
    this.cached = undefined;
  }

  /** The errno-shaped error a fault stands for. */
  static errorOf(verb: string, kind: HostFaultKind, message?: string): NodeJS.ErrnoException {
    const [code, text] =
      kind === 'throttle'
        ? ['EAGAIN', 'resource temporarily unavailable (too many processes)']
        : kind === 'server'
          ? ['EIO', 'input/output error']
          : ['EINVAL', message ?? 'invalid argument'];
    const error = new Error(`${text} [injected into ${verb}]`) as NodeJS.ErrnoException;
    error.code = code;
    return error;
  }
}
