import { systemClock, type Clock } from './clock.js';

/** What the scheduler knows about one job. */
export interface JobStatus {
  readonly name: string;
  readonly everyMs: number;
  /** Runs started (by the timer or runNow). */
  readonly runs: number;
  /** Runs that threw or rejected. */
  readonly failures: number;
  /** Timer ticks skipped because the previous run had not finished. */
  readonly skipped: number;
  readonly running: boolean;
  /** Clock time the last run started, or null. */
  readonly lastStartMs: number | null;
  readonly lastError: string | null;
}

export interface SchedulerOptions {
  /** Told of every failed run; the job keeps its schedule. Default: console.error. */
  readonly onError?: (job: string, err: unknown) => void;
  /** The system clock, for the times in JobStatus. Default systemClock. */
  readonly clock?: Clock;
}

export interface JobOptions {
  /** Also run once at once (as the timer would after everyMs). Default false. */
  readonly runNow?: boolean;
}

interface Job {
  readonly name: string;
  readonly everyMs: number;
  readonly run: () => unknown;
  timer: NodeJS.Timeout | null;
  current: Promise<void> | null;
  runs: number;
  failures: number;
  skipped: number;
  lastStartMs: number | null;
  lastError: string | null;
}

/**
 * The one place periodic jobs run (charging, re-checks, sweeps, deliveries, periodic alarm rules).
 * A job is named, runs every `everyMs` of real time, never overlaps itself (a tick that finds the last
 * run unfinished is skipped and counted), and a throw or rejection is reported and does not stop it.
 * `stop()` ends every job and waits for the runs in progress. Timers never keep the process alive.
 * Real-time loops with their own timing (the bus poller, the edge cycle, the recorder's flush) do not
 * run here.
 */
export class Scheduler {
  private readonly jobs = new Map<string, Job>();
  private readonly onError: (job: string, err: unknown) => void;
  private readonly clock: Clock;
  private stopped = false;

  constructor(o: SchedulerOptions = {}) {
    this.onError = o.onError ?? ((job, err) => console.error(`job ${job} failed:`, err));
    this.clock = o.clock ?? systemClock;
  }

  /** Adds a job; returns a function that removes it (waiting for its run in progress). */
  every(name: string, everyMs: number, run: () => unknown, o: JobOptions = {}): () => Promise<void> {
    if (this.stopped) throw new Error(`scheduler stopped: cannot add job ${name}`);
    if (this.jobs.has(name)) throw new Error(`a job named ${name} is already scheduled`);
    if (!(everyMs > 0)) throw new Error(`job ${name}: everyMs must be positive, found ${everyMs}`);
    const job: Job = { name, everyMs, run, timer: null, current: null, runs: 0, failures: 0, skipped: 0, lastStartMs: null, lastError: null };
    this.jobs.set(name, job);
    job.timer = setInterval(() => {
      if (job.current) job.skipped++;
      else void this.start(job);
    }, everyMs);
    job.timer.unref();
    if (o.runNow) void this.start(job);
    return () => this.remove(job);
  }

  /** Runs a job now, or joins its run in progress; resolves when that run has ended. */
  runNow(name: string): Promise<void> {
    const job = this.jobs.get(name);
    if (!job) return Promise.reject(new Error(`no job named ${name}`));
    return job.current ?? this.start(job);
  }

  status(): JobStatus[] {
    return [...this.jobs.values()].map((j) => ({
      name: j.name,
      everyMs: j.everyMs,
      runs: j.runs,
      failures: j.failures,
      skipped: j.skipped,
      running: j.current !== null,
      lastStartMs: j.lastStartMs,
      lastError: j.lastError,
    }));
  }

  /** Ends every job and waits for the runs in progress; no job can be added afterwards. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all([...this.jobs.values()].map((j) => this.remove(j)));
  }

  private start(job: Job): Promise<void> {
    job.runs++;
    job.lastStartMs = this.clock();
    job.current = (async () => {
      try {
        await job.run();
      } catch (err) {
        job.failures++;
        job.lastError = err instanceof Error ? err.message : String(err);
        try {
          this.onError(job.name, err);
        } catch {
          // a failing reporter must not stop the job
        }
      }
    })().finally(() => {
      job.current = null;
    });
    return job.current;
  }

  private async remove(job: Job): Promise<void> {
    if (job.timer) clearInterval(job.timer);
    job.timer = null;
    if (this.jobs.get(job.name) === job) this.jobs.delete(job.name);
    await job.current;
  }
}
