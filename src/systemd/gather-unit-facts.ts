import type { StaleProcess } from '../types/stale.js';
import type { UnitFacts } from '../types/plan.js';
import type { SystemdManager } from '../types/systemd.js';

export interface GatheredUnitFacts {
  /** Keyed by unit name (the plan's `unitFactsKey` for system units). */
  units: Map<string, UnitFacts>;
  /** Units the manager could not describe, and what their files got wrong. */
  warnings: string[];
}

/**
 * Asks the manager about every system unit that owns a stale process, and about the sockets that
 * activate them (whether each must change with its service). A unit it does not know (not loaded,
 * or the call failed) is left out, so the policy skips it as unit-unknown rather than acting
 * blindly, and a socket left out is never touched.
 */
export async function gatherUnitFacts(stale: readonly StaleProcess[], manager: SystemdManager): Promise<GatheredUnitFacts> {
  const names = [...new Set(stale.filter((p) => p.owner.kind === 'system-unit').map((p) => p.owner.name))].sort();
  const units = new Map<string, UnitFacts>();
  const warnings: string[] = [];
  const sockets = new Set<string>();
  for (const name of names) {
    try {
      const facts = await manager.unitFacts(name);
      warnings.push(...(facts.fileWarnings ?? []).map((w) => `${name}: ${w}`));
      if (facts.loadState === 'not-found') warnings.push(`${name}: not known to the manager at ${manager.busAddress}`);
      else units.set(name, facts);
      for (const socket of facts.triggeredBy ?? []) if (socket.endsWith('.socket')) sockets.add(socket);
    } catch (error) {
      warnings.push(`${name}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  for (const socket of [...sockets].sort()) {
    if (units.has(socket)) continue;
    try {
      const facts = await manager.unitFacts(socket);
      if (facts.loadState !== 'not-found') units.set(socket, facts);
    } catch (error) {
      warnings.push(`${socket}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return { units, warnings };
}
