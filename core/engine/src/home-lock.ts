import { chmodSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Sqlite from 'better-sqlite3';
import { SlipwayError } from '@slipway/contracts';

/** What the holder of a home's lock writes beside it, so a refused start can name it. */
export interface HomeLockHolder {
  pid: number;
  started_at: string;
  /** What holds it: `slipway up`, `slipway restore`. */
  purpose: string;
}

export const LOCK_FILE = 'slipway.lock';
export const HOLDER_FILE = 'slipway.pid';

/**
 * One process at a time on a home. Node has no flock, so the lock is SQLite's own: an exclusive
 * transaction on `slipway.lock`, which SQLite holds with a POSIX record lock on the file. The kernel drops
 * that lock when the process ends however it ends (kill -9 included), so there is never a stale lock to
 * clean up, and a recycled pid cannot block a start: the pid file is only read to name the holder while
 * the lock is actually held. (A pid file checked for liveness would need the process's start time to tell
 * a recycled pid apart, and two starters racing to remove a stale file need a second lock anyway.)
 */
export class HomeLock {
  private constructor(
    private readonly db: Sqlite.Database,
    readonly home: string,
  ) {}

  /** Takes the lock or throws `Conflict` naming the process that holds it. */
  static acquire(home: string, purpose: string): HomeLock {
    const file = join(home, LOCK_FILE);
    const db = new Sqlite(file, { timeout: 0 });
    chmodSync(file, 0o600);
    try {
      db.exec('BEGIN EXCLUSIVE');
    } catch (e) {
      db.close();
      if ((e as { code?: string }).code !== 'SQLITE_BUSY') throw e;
      const holder = readHolder(home);
      const who = holder
        ? `${holder.purpose} (pid ${holder.pid}, since ${holder.started_at})`
        : 'another process (it has not written its pid yet)';
      throw new SlipwayError('Conflict', `${purpose} refused: ${who} is running on home ${home}`, {
        hint: holder
          ? `One control plane per home. Stop it first (kill -TERM ${holder.pid}), or use another --home.`
          : 'One control plane per home. Wait a second and retry, or stop the other process first.',
        details: holder ? { pid: holder.pid, purpose: holder.purpose } : {},
      });
    }
    const holder: HomeLockHolder = { pid: process.pid, started_at: new Date().toISOString(), purpose };
    const tmp = join(home, `${HOLDER_FILE}.${process.pid}.tmp`);
    writeFileSync(tmp, `${JSON.stringify(holder)}\n`, { mode: 0o600 });
    renameSync(tmp, join(home, HOLDER_FILE));
    return new HomeLock(db, home);
  }

  /** Releases the lock (the process ending releases it too). */
  release(): void {
    if (!this.db.open) return;
    this.db.exec('ROLLBACK');
    this.db.close();
  }
}

/** Who holds (or last held) the lock of a home, from its pid file. */
export function readHolder(home: string): HomeLockHolder | undefined {
  try {
    return JSON.parse(readFileSync(join(home, HOLDER_FILE), 'utf8')) as HomeLockHolder;
  } catch {
    return undefined;
  }
}
