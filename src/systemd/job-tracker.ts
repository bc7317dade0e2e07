import { RestartdError } from '../errors.js';
import type { Job, JobCompletion, JobResult } from '../types/systemd.js';

// JobRemoved signals nobody waits for yet are kept this long (other clients' jobs arrive too).
const KEEP_MS = 5 * 60_000;
const KEEP_MAX = 4096;

interface Removed {
  result: JobResult;
  at: number;
}

interface Waiter {
  job: Job;
  resolve(completion: JobCompletion): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * Matches JobRemoved signals to jobs by object path. A signal may arrive before the method reply
 * that names the job (both can come in one read from the socket), so signals are buffered and a
 * later wait finds them.
 */
export class JobTracker {
  private readonly removedJobs = new Map<string, Removed>();
  // Several waits can share a job: systemd merges a start into one already queued for the unit.
  private readonly waiters = new Map<string, Waiter[]>();

  /** Feed one JobRemoved signal. */
  removed(path: string, result: string, at = performance.now()): void {
    const removed = { result: result as JobResult, at };
    for (const waiter of this.waiters.get(path) ?? []) {
      clearTimeout(waiter.timer);
      waiter.resolve(completion(waiter.job, removed));
    }
    this.waiters.delete(path);
    // Kept even when someone waited: a merged job's path may still be on its way in a reply.
    this.removedJobs.set(path, removed);
    this.prune(at);
  }

  wait(job: Job, timeoutMs: number): Promise<JobCompletion> {
    const early = this.removedJobs.get(job.path);
    if (early) return Promise.resolve(completion(job, early));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        job,
        resolve,
        reject,
        timer: setTimeout(() => {
          const rest = (this.waiters.get(job.path) ?? []).filter((w) => w !== waiter);
          if (rest.length > 0) this.waiters.set(job.path, rest);
          else this.waiters.delete(job.path);
          reject(new RestartdError('JOB_TIMEOUT', `no result for the ${job.method} job of ${job.unit} after ${timeoutMs} ms`, { subject: job.unit }));
        }, timeoutMs),
      };
      this.waiters.set(job.path, [...(this.waiters.get(job.path) ?? []), waiter]);
    });
  }

  /** Fails every wait in progress (the bus went away). */
  failAll(error: Error): void {
    for (const waiter of [...this.waiters.values()].flat()) {
      clearTimeout(waiter.timer);
      waiter.reject(error);
    }
    this.waiters.clear();
  }

  private prune(now: number): void {
    for (const [path, entry] of this.removedJobs) {
      if (now - entry.at <= KEEP_MS && this.removedJobs.size <= KEEP_MAX) break;
      this.removedJobs.delete(path);
    }
  }
}

function completion(job: Job, removed: Removed): JobCompletion {
  return {
    job,
    result: removed.result,
    durationMs: Math.max(0, removed.at - job.queuedAt),
    signalBeforeReply: removed.at < job.repliedAt,
  };
}
