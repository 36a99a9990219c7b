// The SQLite database's files are private to the server, whatever the directory's mode or the umask: they
// hold every bootstrap token and Secret. SQLite itself creates a new database 0644 (it fchmods to its
// default after open, so even a 077 umask does not help) and gives the -wal and -shm files the database
// file's mode; so the database file is made 0600 before SQLite opens it, and existing files are narrowed.
import { chmodSync, closeSync, existsSync, fchmodSync, openSync } from 'node:fs';

export const SQLITE_FILE_MODE = 0o600;

/** The database and its companion files as SQLite names them. */
export function sqliteFiles(dbPath: string): string[] {
  return [dbPath, `${dbPath}-wal`, `${dbPath}-shm`, `${dbPath}-journal`];
}

/** Creates the database file 0600 if missing and narrows the files that exist to 0600. */
export function preparePrivateDatabaseFiles(dbPath: string): void {
  if (dbPath === ':memory:' || dbPath === '') return;
  if (!existsSync(dbPath)) {
    // 'a' creates without truncating (a file appearing meanwhile is kept); fchmod is not subject to the umask.
    const fd = openSync(dbPath, 'a', SQLITE_FILE_MODE);
    try {
      fchmodSync(fd, SQLITE_FILE_MODE);
    } finally {
      closeSync(fd);
    }
  }
  for (const file of sqliteFiles(dbPath)) {
    if (existsSync(file)) chmodSync(file, SQLITE_FILE_MODE);
  }
}
