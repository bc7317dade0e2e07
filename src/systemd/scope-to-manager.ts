import type { StaleProcess } from '../types/stale.js';
import { ownerFromCgroupPath } from '../owner/owner-of.js';
import type { Owner } from '../types/owner.js';
import { inManagerTree, managerPidOf, managerRelativeCgroup, nsPidsOf } from './manager-process.js';
import type { ManagerProcess, SystemdManager } from '../types/systemd.js';

const PID1: Owner = { kind: 'pid1', name: 'init' };

/**
 * The stale processes one manager is responsible for, with owners as that manager names them.
 * A manager in a container (or a test sandbox) owns only its cgroup tree: processes elsewhere are
 * left out, and cgroup paths are taken relative to its root ("/system.slice/foo.service"). The
 * manager's own process is its PID 1. Without a known manager process everything is kept as is.
 * A process in the manager's tree but in a PID namespace it cannot see (another container's, beside
 * it) is not one of its units' whatever its cgroup says: it is a container.
 */
export function scopeToManager(stale: readonly StaleProcess[], manager: ManagerProcess | undefined): StaleProcess[] {
  if (manager === undefined) return [...stale];
  const scoped: StaleProcess[] = [];
  for (const process of stale) {
    if (process.pid === manager.hostPid) {
      scoped.push({ ...process, owner: PID1 });
      continue;
    }
    if (manager.cgroupRoot === '/') {
      scoped.push(process);
      continue;
    }
    const cgroup = process.owner.cgroup;
    if (cgroup === undefined || !inManagerTree(manager, cgroup)) continue;
    const relative = managerRelativeCgroup(manager, cgroup);
    const owner = ownerFromCgroupPath(relative) ?? { kind: 'process', name: `pid:${process.pid}`, cgroup: relative };
    // A process that exited meanwhile has no NSpid either: it is not taken for a container.
    const hidden = owner.kind === 'system-unit' && managerPidOf(manager, process.pid) === undefined && nsPidsOf(process.pid) !== undefined;
    scoped.push({ ...process, owner: hidden ? { kind: 'container', name: owner.name, cgroup: relative } : owner });
  }
  return scoped;
}

/**
 * Cross-checks each system unit owner with GetUnitByPID (one PID per unit): where the manager
 * names another unit, its answer wins. Owners the bus can't place keep what their cgroup said.
 */
export async function crossCheckOwners(stale: readonly StaleProcess[], manager: SystemdManager): Promise<StaleProcess[]> {
  const renamed = new Map<string, string | undefined>();
  for (const process of stale) {
    if (process.owner.kind !== 'system-unit' || renamed.has(process.owner.name)) continue;
    let unit: string | undefined;
    try {
      unit = await manager.unitByPid(process.pid);
    } catch {
      unit = undefined; // the process exited, or the bus can't tell
    }
    renamed.set(process.owner.name, unit !== undefined && unit !== process.owner.name ? unit : undefined);
  }
  return stale.map((process) => {
    const unit = process.owner.kind === 'system-unit' ? renamed.get(process.owner.name) : undefined;
    if (unit === undefined) return process;
    return { ...process, owner: unit === 'init.scope' ? PID1 : { ...process.owner, name: unit } };
  });
}
