import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { groupsIn, isKernelThread, parseStat } from '../scan/parse.js';
import type { ProcIdentity } from '../types/aware.js';

/** Every uid (real, effective, saved, fs) in /proc/PID/status text. Pure. */
export function uidsIn(statusText: string): number[] | undefined {
  return /^Uid:\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)/m.exec(statusText)?.slice(1).map(Number);
}

/** Who runs at pid now (stat + status), or undefined when it is gone or unreadable. */
export async function readIdentity(pid: number, procRoot = '/proc'): Promise<ProcIdentity | undefined> {
  try {
    const [statText, statusText] = await Promise.all([
      readFile(join(procRoot, String(pid), 'stat'), 'utf8'),
      readFile(join(procRoot, String(pid), 'status'), 'utf8'),
    ]);
    const stat = parseStat(statText);
    const uids = uidsIn(statusText);
    const gids = /^Gid:\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)/m.exec(statusText)?.slice(1).map(Number);
    const groups = groupsIn(statusText);
    if (stat === undefined || uids === undefined) return undefined;
    return { pid, startTime: stat.startTime, uids, ...(gids === undefined ? {} : { gids }), ...(groups === undefined ? {} : { groups }), kernelThread: isKernelThread(stat) || pid === 2 };
  } catch {
    return undefined;
  }
}
