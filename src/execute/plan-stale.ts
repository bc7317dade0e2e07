import type { Config } from '../config/schema.js';
import type { StaleProcess } from '../types/stale.js';
import { buildPlan } from '../plan/build-plan.js';
import type { Plan } from '../types/plan.js';
import { gatherUnitFacts } from '../systemd/gather-unit-facts.js';
import { crossCheckOwners, scopeToManager } from '../systemd/scope-to-manager.js';
import type { SystemdManager } from '../types/systemd.js';

export interface StalePlan {
  /** The stale processes the plan covers: with a manager, those it owns, named as it names them. */
  stale: StaleProcess[];
  plan: Plan;
  warnings: string[];
}

/**
 * Plans the actions for stale processes: scoped to the manager and with unit facts from it when
 * there is one; without one, system units are skipped as unit-unknown (nothing is decided blindly).
 * Processes in `aware` (registered update-aware) are told instead of restarted (see buildPlan).
 * Used by `restartd plan` and by applySwitch, so both show the same plan.
 */
export async function planStale(
  detected: readonly StaleProcess[],
  config: Config,
  manager: SystemdManager | undefined,
  aware?: ReadonlyMap<number, string>,
): Promise<StalePlan> {
  const awareInput = aware === undefined ? {} : { aware };
  if (manager === undefined) {
    return { stale: [...detected], plan: buildPlan(detected, { units: new Map(), config, ...awareInput }), warnings: [] };
  }
  const stale = await crossCheckOwners(scopeToManager(detected, manager.process), manager);
  const facts = await gatherUnitFacts(stale, manager);
  return { stale, plan: buildPlan(stale, { units: facts.units, config, ...awareInput }), warnings: facts.warnings };
}
