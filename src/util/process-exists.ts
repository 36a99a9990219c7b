// Whether a process exists, for state left by a process that may have died (a lock's holder, a server's
// loopback directory).

/** kill(pid, 0) fails with ESRCH when the process does not exist; EPERM means it exists but is not ours. */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
