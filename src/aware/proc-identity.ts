import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isKernelThread, parseStat } from '../scan/parse.js';
import type { ProcIdentity } from '../types/aware.js';

/** Who runs at pid now (stat + status), or undefined when it is gone or unreadable. */
export async function readIdentity(pid: number, procRoot = '/proc'): Promise<ProcIdentity | undefined> {
  try {
    const [statText, statusText] = await Promise.all([
      readFile(join(procRoot, String(pid), 'stat'), 'utf8'),
      readFile(join(procRoot, String(pid), 'status'), 'utf8'),
    ]);
    const stat = parseStat(statText);
    const uids = /^Uid:\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)/m.exec(statusText)?.slice(1).map(Number);
    const gids = /^Gid:\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)/m.exec(statusText)?.slice(1).map(Number);
    if (stat === undefined || uids === undefined) return undefined;
    return { pid, startTime: stat.startTime, uids, ...(gids === undefined ? {} : { gids }), kernelThread: isKernelThread(stat) || pid === 2 };
  } catch {
    return undefined;
  }
}
