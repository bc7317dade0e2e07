import { closeSync, fstatSync, linkSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync, fsyncSync } from 'node:fs';
import { join } from 'node:path';
import * as z from 'zod';
import { errnoCode, RestartdError } from '../errors.js';
import { procStartTime } from './proc-start-time.js';

/** Who holds the state dir's lock: pid + start time (field 22 of /proc/PID/stat). */
export const LockHolderSchema = z.object({
  pid: z.number().int().positive(),
  startTime: z.number().int().nonnegative(),
  since: z.string(),
  command: z.string(),
});
export type LockHolder = z.infer<typeof LockHolderSchema>;

/** A held lock; `release` removes it if it is still ours. */
export interface StateLock {
  path: string;
  holder: LockHolder;
  release(): void;
}

/** Either the lock, or who holds it (undefined when it could not be read). */
export type LockAttempt = { acquired: true; lock: StateLock } | { acquired: false; path: string; holder: LockHolder | undefined };

// A lock file that never got its content (its creator was killed between create and write) is stale after this.
const EMPTY_LOCK_GRACE_MS = 5000;
const POLL_MS = 100;

export function lockPathOf(stateDir: string): string {
  return join(stateDir, 'lock');
}

/**
 * Takes the state dir's lock, waiting up to `waitMs` for another run to let go. The lock file is
 * created with O_EXCL; a lock whose process is dead, or whose pid now belongs to another process
 * (the start time differs), is taken over.
 */
export async function acquireStateLock(stateDir: string, options: { waitMs: number; command: string }): Promise<LockAttempt> {
  const deadline = Date.now() + Math.max(0, options.waitMs);
  for (;;) {
    const attempt = tryStateLock(stateDir, options.command);
    if (attempt.acquired || Date.now() >= deadline) return attempt;
    await new Promise((resolve) => setTimeout(resolve, Math.min(POLL_MS, Math.max(1, deadline - Date.now()))));
  }
}

/** One try at the lock, without waiting. */
/** This process's start time, read once: it does not change while the process runs (waiting polls the lock). */
let ownStart: number | undefined;
function ownStartTime(): number | undefined {
  ownStart ??= procStartTime(process.pid);
  return ownStart;
}

export function tryStateLock(stateDir: string, command: string): LockAttempt {
  const path = lockPathOf(stateDir);
  const startTime = ownStartTime();
  if (startTime === undefined) throw new RestartdError('SCAN_FAILED', `cannot read /proc/${process.pid}/stat: the lock needs the start time of this process`, { subject: `/proc/${process.pid}/stat` });
  const holder: LockHolder = { pid: process.pid, startTime, since: new Date().toISOString(), command };
  // Bounded: each round either creates the lock, finds it live, or removes one stale lock.
  for (let round = 0; round < 5; round++) {
    if (createExclusive(path, holder)) return { acquired: true, lock: heldLock(path, holder) };
    const found = readLock(path);
    if (found === 'gone') continue;
    if (!isStale(found)) return { acquired: false, path, holder: found.holder };
    removeStale(path, found.ino);
  }
  return { acquired: false, path, holder: undefined };
}

function createExclusive(path: string, holder: LockHolder): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o644);
  } catch (error) {
    if (errnoCode(error) === 'EEXIST') return false;
    throw error;
  }
  try {
    writeSync(fd, `${JSON.stringify(holder)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return true;
}

interface FoundLock {
  ino: number;
  mtimeMs: number;
  holder: LockHolder | undefined;
}

function readLock(path: string): FoundLock | 'gone' {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return 'gone';
    throw error;
  }
  try {
    const stat = fstatSync(fd);
    let holder: LockHolder | undefined;
    try {
      const parsed = LockHolderSchema.safeParse(JSON.parse(readFileSync(fd, 'utf8')));
      holder = parsed.success ? parsed.data : undefined;
    } catch {
      holder = undefined;
    }
    return { ino: stat.ino, mtimeMs: stat.mtimeMs, holder };
  } finally {
    closeSync(fd);
  }
}

function isStale(found: FoundLock): boolean {
  if (found.holder === undefined) return Date.now() - found.mtimeMs > EMPTY_LOCK_GRACE_MS;
  // Dead, or the pid was reused by a process that started at another time.
  return procStartTime(found.holder.pid) !== found.holder.startTime;
}

/**
 * Moves the stale lock aside and deletes it, but only the very file judged stale: if another run
 * took it over in between (another inode at the path), its fresh lock is put back.
 */
function removeStale(path: string, staleIno: number): void {
  const aside = `${path}.stale-${process.pid}`;
  try {
    renameSync(path, aside);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return;
    throw error;
  }
  if (statSync(aside).ino !== staleIno) {
    try {
      linkSync(aside, path);
    } catch (error) {
      // EEXIST: yet another run created a lock meanwhile; it holds the lock now.
      if (errnoCode(error) !== 'EEXIST') throw error;
    }
  }
  unlinkSync(aside);
}

function heldLock(path: string, holder: LockHolder): StateLock {
  return {
    path,
    holder,
    release() {
      const found = readLock(path);
      if (found === 'gone' || found.holder?.pid !== holder.pid || found.holder.startTime !== holder.startTime) return;
      unlinkSync(path);
    },
  };
}

/** The holder of the state dir's lock if a live process holds it. */
export function liveLockHolder(stateDir: string): LockHolder | undefined {
  const found = readLock(lockPathOf(stateDir));
  return found === 'gone' || found.holder === undefined || isStale(found) ? undefined : found.holder;
}
