// proc.mjs - what /proc says about the workload's processes, and ending them safely.
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

const DELETED = ' (deleted)';

/** Field 22 of /proc/PID/stat, or undefined if the process is gone or a zombie. */
export function startTimeOf(pid) {
  let stat;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields[0] is field 3
  if (fields[0] === 'Z' || fields[0] === 'X') return undefined;
  return Number(fields[19]);
}

/** True if `p.pid` still is the process we started (same start time) and not a zombie. */
export const isAlive = (p) => startTimeOf(p.pid) === p.startTime;

/**
 * Every file a process holds, as /proc names it: its exe, file mappings and fd targets,
 * `path` without the " (deleted)" suffix. Throws if /proc/PID cannot be read.
 */
export function filesOf(pid) {
  const out = [];
  const add = (name, via) => {
    if (!name.startsWith('/')) return; // pipes, sockets, anon_inode:..., [heap]
    const deleted = name.endsWith(DELETED);
    out.push({ path: deleted ? name.slice(0, -DELETED.length) : name, deleted, via });
  };
  add(readlinkSync(`/proc/${pid}/exe`), 'exe');
  for (const line of readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n')) {
    const m = /^\S+ \S+ \S+ \S+ \d+ +(.+)$/.exec(line);
    if (m) add(m[1], 'maps');
  }
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      add(readlinkSync(`/proc/${pid}/fd/${fd}`), 'fd');
    } catch { /* closed meanwhile */ }
  }
  return out;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Send `signal` to those of `procs` still alive; wait up to `ms` for them to be gone. Returns the rest. */
async function signalAndWait(procs, signal, ms) {
  for (const p of procs) {
    if (!isAlive(p)) continue;
    try {
      process.kill(p.pid, signal);
    } catch (e) {
      if (e.code !== 'ESRCH') throw e;
    }
  }
  const deadline = Date.now() + ms;
  let left = procs.filter(isAlive);
  while (left.length && Date.now() < deadline) {
    await sleep(20);
    left = left.filter(isAlive);
  }
  return left;
}

/**
 * End exactly these processes ({pid, startTime, role}): a PID whose start time no longer
 * matches is someone else's and is left alone. Daemons first (SIGTERM, then SIGKILL after
 * 10 s), then the supervisor, which exits by itself once its children are gone.
 */
export async function endProcesses(procs) {
  const daemons = procs.filter((p) => p.role !== 'supervisor');
  const supervisors = procs.filter((p) => p.role === 'supervisor');
  for (const group of [daemons, supervisors]) {
    let left = await signalAndWait(group, 'SIGTERM', 10_000);
    if (left.length) left = await signalAndWait(left, 'SIGKILL', 5_000);
    if (left.length) throw new Error(`testkit: could not end pid(s) ${left.map((p) => p.pid).join(' ')}`);
  }
}
