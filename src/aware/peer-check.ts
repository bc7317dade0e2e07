import { execFile } from 'node:child_process';
import { uidsIn } from './proc-identity.js';
import { readFile } from 'node:fs/promises';

/** One connected Unix stream socket as `ss -xpn` lists it: its inode, its peer's, and the pids holding it. */
interface UnixRow {
  ino: number;
  peer: number;
  pids: number[];
}

// u_str ESTAB 0 0 /run/app.sock 2057459 * 2057458 users:(("app",pid=25574,fd=5))
const ROW = /^u_str\s+\S+\s+\d+\s+\d+\s+.*?\s(\d+)\s+\S+\s+(\d+)(?:\s+users:\((.*)\))?\s*$/;

function parseUnixRows(text: string): UnixRow[] {
  const rows: UnixRow[] = [];
  for (const line of text.split('\n')) {
    const match = ROW.exec(line);
    if (!match) continue;
    const pids = [...(match[3] ?? '').matchAll(/pid=(\d+),fd=\d+/g)].map((m) => Number(m[1]));
    rows.push({ ino: Number(match[1]), peer: Number(match[2]), pids });
  }
  return rows;
}

/**
 * The pids holding the other end of the connected socket `ino` (SO_PEERCRED's answer, read through
 * sock_diag by iproute2's `ss`: Node has no getsockopt). [] when it cannot be told.
 */
export async function peerPids(ino: number, timeoutMs: number): Promise<number[]> {
  const text = await new Promise<string>((resolve) => {
    execFile('ss', ['-xpn'], { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (error, stdout) => resolve(error ? '' : stdout));
  });
  const rows = parseUnixRows(text);
  const mine = rows.find((row) => row.ino === ino);
  if (mine === undefined) return [];
  return rows.find((row) => row.ino === mine.peer)?.pids ?? [];
}

/** Every uid (real, effective, saved, fs) of `pid`, or undefined when it is gone. */
export async function uidsOf(pid: number, procRoot = '/proc'): Promise<number[] | undefined> {
  try {
    return uidsIn(await readFile(`${procRoot}/${pid}/status`, 'utf8'));
  } catch {
    return undefined;
  }
}
