import { readFileSync } from 'node:fs';

/** Field 22 of /proc/PID/stat, or undefined when the process is gone. */
export function startTimeOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const value = Number(fields[19]);
    return Number.isFinite(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** A process identity that survives PID reuse: "PID STARTTIME". */
export interface ProcIdentity {
  pid: number;
  startTime: number;
}

export function identityOf(pid: number): ProcIdentity | undefined {
  const startTime = startTimeOf(pid);
  return startTime === undefined ? undefined : { pid, startTime };
}

export function formatIdentity(id: ProcIdentity): string {
  return `${id.pid} ${id.startTime}\n`;
}

export function parseIdentity(text: string): ProcIdentity | undefined {
  const [pid, startTime] = text.trim().split(/\s+/).map(Number);
  return pid !== undefined && startTime !== undefined && Number.isInteger(pid) && Number.isInteger(startTime) ? { pid, startTime } : undefined;
}

/** Still the very process that was recorded. */
export function isAlive(id: ProcIdentity | undefined): id is ProcIdentity {
  return id !== undefined && startTimeOf(id.pid) === id.startTime;
}

/** The first child of PID (from /proc/PID/task/PID/children), if any. */
export function firstChildOf(pid: number): number | undefined {
  try {
    const first = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/)[0];
    return first ? Number(first) : undefined;
  } catch {
    return undefined;
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` every `everyMs` until it returns true or `timeoutMs` passes; returns the last answer. */
export async function pollUntil(check: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 20): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(everyMs);
  }
}
