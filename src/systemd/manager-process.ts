import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { systemdCgroupPath } from '../owner/owner-of.js';
import { parseCgroup } from '../scan/parse.js';
import type { ManagerProcess } from '../types/systemd.js';

/** A unit's invocation ID as the bus reports it: systemd also links it at /run/systemd/units/invocation:UNIT. */
export interface InvocationProbe {
  unit: string;
  invocationId: string;
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function readLink(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}

/** The PIDs /proc lists; none when it can't be read. */
function processIds(procRoot: string): number[] {
  try {
    return readdirSync(procRoot).filter((name) => /^\d+$/.test(name)).map(Number);
  } catch {
    return [];
  }
}

/** The NSpid line of /proc/PID/status: the PID in each namespace, ours first. */
export function nsPidsOf(pid: number, procRoot = '/proc'): number[] | undefined {
  const status = readText(`${procRoot}/${pid}/status`);
  const line = status === undefined ? undefined : /^NSpid:\s+(.*)$/m.exec(status)?.[1];
  return line === undefined ? undefined : line.trim().split(/\s+/).map(Number);
}

function owns(pid: number, probes: readonly InvocationProbe[], procRoot: string): boolean {
  return probes.some((p) => readLink(`${procRoot}/${pid}/root/run/systemd/units/invocation:${p.unit}`) === p.invocationId);
}

/**
 * Finds the process of the manager behind a bus: a PID 1 (of its own PID namespace) whose /run holds
 * the invocation IDs the bus reported. Our PID 1 is tried first; then every namespace's PID 1 (a
 * container, a test sandbox). Undefined when none matches or /proc can't be read (not root).
 */
export function findManagerProcess(probes: readonly InvocationProbe[], procRoot = '/proc'): ManagerProcess | undefined {
  if (probes.length === 0) return undefined;
  if (owns(1, probes, procRoot)) return describe(1, procRoot);
  for (const pid of processIds(procRoot)) {
    if (pid === 1) continue;
    const ns = nsPidsOf(pid, procRoot);
    if (ns === undefined || ns.length < 2 || ns[ns.length - 1] !== 1) continue;
    if (owns(pid, probes, procRoot)) return describe(pid, procRoot);
  }
  return undefined;
}

function describe(pid: number, procRoot: string): ManagerProcess | undefined {
  const ns = nsPidsOf(pid, procRoot);
  const cgroupText = readText(`${procRoot}/${pid}/cgroup`);
  if (ns === undefined || cgroupText === undefined) return undefined;
  const ownMountNs = readLink(`${procRoot}/self/ns/mnt`);
  const sameMounts = ownMountNs !== undefined && readLink(`${procRoot}/${pid}/ns/mnt`) === ownMountNs;
  return {
    hostPid: pid,
    rootPrefix: sameMounts ? '' : `${procRoot}/${pid}/root`,
    cgroupRoot: treeRoot(systemdCgroupPath(parseCgroup(cgroupText)) ?? '/'),
    nsLevel: ns.length - 1,
  };
}

/** The manager sits in "<root>/init.scope"; its units below "<root>". */
function treeRoot(managerCgroup: string): string {
  const root = managerCgroup.replace(/\/init\.scope$/, '');
  return root === '' ? '/' : root;
}

/**
 * A PID of ours as the manager numbers it: the NSpid entry at the manager's level, provided the
 * process is in the manager's PID namespace (or below it).
 */
export function managerPidOf(manager: ManagerProcess, pid: number, procRoot = '/proc'): number | undefined {
  if (manager.nsLevel === 0) return pid;
  const ns = nsPidsOf(pid, procRoot);
  const translated = ns?.[manager.nsLevel];
  if (ns === undefined || translated === undefined) return undefined;
  // At the manager's own depth a sibling namespace (another container) would give a PID of its own.
  if (ns.length === manager.nsLevel + 1 && readLink(`${procRoot}/${pid}/ns/pid`) !== readLink(`${procRoot}/${manager.hostPid}/ns/pid`)) {
    return undefined;
  }
  return translated;
}

/** Whether a cgroup path (as we read it) is inside the manager's tree. */
export function inManagerTree(manager: ManagerProcess | undefined, cgroupPath: string | undefined): boolean {
  if (manager === undefined || manager.cgroupRoot === '/') return true;
  return cgroupPath !== undefined && (cgroupPath === manager.cgroupRoot || cgroupPath.startsWith(`${manager.cgroupRoot}/`));
}

/** The cgroup path relative to the manager's tree ("/system.slice/foo.service"), as systemd names it. */
export function managerRelativeCgroup(manager: ManagerProcess | undefined, cgroupPath: string): string {
  if (manager === undefined || manager.cgroupRoot === '/' || !inManagerTree(manager, cgroupPath)) return cgroupPath;
  return cgroupPath.slice(manager.cgroupRoot.length) || '/';
}

/**
 * The PID here of the process the manager numbers `managerPid` (the reverse of managerPidOf):
 * undefined when no process in the manager's PID namespace has it.
 */
export function hostPidOf(manager: ManagerProcess | undefined, managerPid: number, procRoot = '/proc'): number | undefined {
  if (manager === undefined || manager.nsLevel === 0) return managerPid;
  for (const pid of processIds(procRoot)) {
    if (nsPidsOf(pid, procRoot)?.[manager.nsLevel] === managerPid && managerPidOf(manager, pid, procRoot) === managerPid) return pid;
  }
  return undefined;
}
