import type { ProcReader } from '../scan/proc-reader.js';
import type { Reader } from '../safe-fs/read-regular.js';
import { groupsIn } from '../scan/parse.js';

/**
 * Whose rights reading a process's sources stands in for: its filesystem uid, fs gid and
 * supplementary groups (/proc/PID/status). Undefined when unreadable: then nothing is read.
 */
export function readerOf(reader: ProcReader, pid: number): Reader | undefined {
  let status: string;
  try {
    status = reader.read(pid, 'status');
  } catch {
    return undefined;
  }
  const uid = /^Uid:\s+\d+\s+\d+\s+\d+\s+(\d+)/m.exec(status)?.[1];
  const gid = /^Gid:\s+\d+\s+\d+\s+\d+\s+(\d+)/m.exec(status)?.[1];
  if (uid === undefined || gid === undefined) return undefined;
  const groups = groupsIn(status) ?? [];
  return { uid: Number(uid), gids: [Number(gid), ...groups] };
}
