import { chmodSync, closeSync, existsSync, openSync } from 'node:fs';

/**
 * Makes a SQLite database private to its owner whatever the umask or the home's mode: the file is created
 * 0600 before SQLite opens it (SQLite gives its -wal and -shm files the database's mode), and an existing
 * database and its companions are set to 0600 again at every open (homes created by earlier versions).
 */
export function createPrivately(file: string): void {
  closeSync(openSync(file, 'a', 0o600));
  restrict(file);
}

/** Sets the database and its WAL and shared-memory files to 0600 (after WAL mode created them). */
export function restrict(file: string): void {
  for (const path of [file, `${file}-wal`, `${file}-shm`]) if (existsSync(path)) chmodSync(path, 0o600);
}
