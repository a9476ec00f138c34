import { readFileSync, readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

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
 * Lowers the calling thread's CPU priority by `by` nice steps from where it is (at most 19), so it
 * always ends below the thread that started it, even in a process started with `nice` (Linux:
 * setpriority on a thread id affects that thread only; lowering needs no privilege). The nice value
 * set, or null where the OS cannot do it.
 */
export function niceThisThread(by: number): number | null {
  const tid = kernelThreadId();
  if (tid === null) return null;
  try {
    const nice = Math.min(19, getPriority(tid) + by);
    setPriority(tid, nice);
    return nice;
  } catch {
    return null;
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
