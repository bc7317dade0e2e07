import type { StaleProcess } from '../types/stale.js';
import type { UnitFacts } from '../types/plan.js';
import type { SystemdManager, UserManagers } from '../types/systemd.js';

export interface GatheredUnitFacts {
  /** Keyed by unit name (the plan's `unitFactsKey` for system units). */
  units: Map<string, UnitFacts>;
  /** Units the manager could not describe, and what their files got wrong. */
  warnings: string[];
}

/**
 * Asks the manager about every system unit that owns a stale process, about the sockets that
 * activate them (whether each must change with its service) and about the units their stop takes
 * down (whether each is running and can be started again). A unit it does not know (not loaded,
 * or the call failed) is left out, so the policy skips it as unit-unknown rather than acting
 * blindly, and a socket left out is never touched.
 */
export async function gatherUnitFacts(stale: readonly StaleProcess[], manager: SystemdManager): Promise<GatheredUnitFacts> {
  return describeUnits(new Set(stale.filter((p) => p.owner.kind === 'system-unit').map((p) => p.owner.name)), manager);
}

async function describeUnits(unitNames: ReadonlySet<string>, manager: SystemdManager): Promise<GatheredUnitFacts> {
  const names = [...unitNames].sort();
  const units = new Map<string, UnitFacts>();
  const warnings: string[] = [];
  // Also described: the sockets that activate them, and the units their stop takes down (PartOf=,
  // BindsTo= them), so the plan neither touches a socket blindly nor leaves a dependent down.
  const related = new Set<string>();
  for (const name of names) {
    try {
      const facts = await manager.unitFacts(name);
      warnings.push(...(facts.fileWarnings ?? []).map((w) => `${name}: ${w}`));
      if (facts.loadState === 'not-found') warnings.push(`${name}: not known to the manager at ${manager.busAddress}`);
      else units.set(name, facts);
      for (const socket of facts.triggeredBy ?? []) if (socket.endsWith('.socket')) related.add(socket);
      for (const dependent of [...(facts.consistsOf ?? []), ...(facts.boundBy ?? [])]) related.add(dependent);
    } catch (error) {
      warnings.push(`${name}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  for (const unit of [...related].sort()) {
    if (units.has(unit)) continue;
    try {
      const facts = await manager.unitFacts(unit);
      if (facts.loadState !== 'not-found') units.set(unit, facts);
    } catch (error) {
      warnings.push(`${unit}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return { units, warnings };
}

export interface GatheredUserUnitFacts extends GatheredUnitFacts {
  /** Users whose manager could not be reached, and why: their units are reported, not acted on. */
  absent: Map<number, string>;
}

/**
 * Asks each user's own manager (through `users`) about that user's units with stale processes,
 * keyed "user/UID/NAME". A user whose manager is absent is in `absent`, with the reason.
 */
export async function gatherUserUnitFacts(stale: readonly StaleProcess[], users: UserManagers): Promise<GatheredUserUnitFacts> {
  const byUid = new Map<number, Set<string>>();
  for (const { owner } of stale) {
    if (owner.kind !== 'user-unit' || owner.uid === undefined) continue;
    const names = byUid.get(owner.uid) ?? new Set<string>();
    byUid.set(owner.uid, names.add(owner.name));
  }
  const units = new Map<string, UnitFacts>();
  const warnings: string[] = [];
  const absent = new Map<number, string>();
  for (const [uid, names] of [...byUid].sort(([a], [b]) => a - b)) {
    const reached = await users.get(uid);
    if (reached.state === 'absent') {
      absent.set(uid, reached.reason);
      warnings.push(reached.reason);
      continue;
    }
    const gathered = await describeUnits(names, reached.manager);
    for (const [name, facts] of gathered.units) units.set(`user/${uid}/${name}`, facts);
    warnings.push(...gathered.warnings.map((w) => `user ${reached.name} (uid ${uid}): ${w}`));
  }
  return { units, warnings, absent };
}
