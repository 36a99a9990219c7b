// CPU time of other processes (etcd, a serve child), from /proc/PID/stat: utime + stime, in clock ticks of 10 ms
// (USER_HZ is 100 on Linux).
import { readFileSync } from 'node:fs';

/** user + system CPU of `pids` together, in µs. */
export function processCpuUs(pids: number[]): number {
  let total = 0;
  for (const pid of pids) {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name, in parentheses, may hold spaces: fields are counted after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    total += (Number(fields[11]) + Number(fields[12])) * 10_000;
  }
  return total;
}
