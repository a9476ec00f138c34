import { readFileSync, readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

/** This thread's kernel id on Linux (/proc/thread-self is "PID/task/TID"); null elsewhere. */
export function kernelThreadId(): number | null {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    return Number.isInteger(tid) && tid > 0 ? tid : null;
  } catch {
    return null;
  }
}

/**
 * Lowers the calling thread's CPU priority to `nice` (Linux: setpriority on a thread id affects
 * that thread only). Raising nice needs no privilege. False where the OS cannot do it.
 */
export function niceThisThread(nice: number): boolean {
  const tid = kernelThreadId();
  if (tid === null) return false;
  try {
    setPriority(tid, nice);
    return true;
  } catch {
    return false;
  }
}

/** The nice value of a thread of this process (Linux, field 19 of its stat line); null elsewhere. */
export function threadNice(tid: number): number | null {
  try {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const nice = Number(fields[16]);
    return Number.isInteger(nice) ? nice : null;
  } catch {
    return null;
  }
}
