// How busy the rest of the host was while the bench measured: CPU time the whole machine spent
// (/proc/stat) minus what the bench and the tools it ran spent (/proc/self/stat, children included).
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';

const CLK_TCK = 100; // USER_HZ on every Linux ABI node runs on

function systemBusyTicks() {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]; // "cpu  user nice system idle iowait irq softirq steal …"
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  return user + nice + system + irq + softirq + (steal || 0);
}

function selfTicks() {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): utime, stime, cutime, cstime are fields 14-17
  return [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0);
}

export function cpuSnapshot() {
  return { busy: systemBusyTicks(), self: selfTicks(), at: process.hrtime.bigint() };
}

/**
 * CPU the rest of the host used between two snapshots, as a share of all CPUs' time (0..1):
 * 0.5 on 2 CPUs means one CPU was busy with other work all along. Workload daemons sleep, so they
 * hardly count; the bench's own children are counted once reaped (they all are by then).
 */
export function otherCpuShare(before, after) {
  const seconds = Number(after.at - before.at) / 1e9;
  if (seconds <= 0) return null;
  const other = Math.max(0, after.busy - before.busy - (after.self - before.self)) / CLK_TCK;
  return Math.round((other / (seconds * cpus().length)) * 100) / 100;
}
