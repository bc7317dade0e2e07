import { readFileSync } from 'node:fs';
import { parseStat } from '../scan/parse.js';

/** Field 22 of /proc/PID/stat (with the pid, an identity that survives PID reuse), or undefined when gone. */
export function procStartTime(pid: number): number | undefined {
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'))?.startTime;
  } catch {
    return undefined;
  }
}
