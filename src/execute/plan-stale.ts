import type { Config } from '../config/schema.js';
import type { StaleProcess } from '../types/stale.js';
import { buildPlan } from '../plan/build-plan.js';
import type { Plan } from '../types/plan.js';
import { gatherUnitFacts, gatherUserUnitFacts } from '../systemd/gather-unit-facts.js';
import { crossCheckOwners, scopeToManager } from '../systemd/scope-to-manager.js';
import type { SystemdManager, UserManagers, UserManagerSummary } from '../types/systemd.js';
import { userOf } from '../report/status-users.js';

export interface StalePlan {
  /** The stale processes the plan covers: with a manager, those it owns, named as it names them. */
  stale: StaleProcess[];
  plan: Plan;
  warnings: string[];
  /** Each user with stale processes and whether their own manager was reached (when users' managers were asked). */
  userManagers?: Map<number, UserManagerSummary>;
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
  users?: UserManagers,
): Promise<StalePlan> {
  const awareInput = aware === undefined ? {} : { aware };
  const stale = manager === undefined ? [...detected] : await crossCheckOwners(scopeToManager(detected, manager.process), manager);
  const facts = manager === undefined ? { units: new Map(), warnings: [] } : await gatherUnitFacts(stale, manager);
  // users' units: facts from each user's own manager, reached as that user.
  const userFacts = users === undefined ? undefined : await gatherUserUnitFacts(stale, users);
  const units = new Map([...facts.units, ...(userFacts?.units ?? [])]);
  const absent = userFacts === undefined || userFacts.absent.size === 0 ? {} : { absentUserManagers: userFacts.absent };
  const plan = buildPlan(stale, { units, config, ...awareInput, ...absent });
  const warnings = [...facts.warnings, ...(userFacts?.warnings ?? [])];
  return { stale, plan, warnings, ...(users === undefined ? {} : { userManagers: await summarizeUserManagers(stale, users) }) };
}

/** Every user with a stale process, and whether their manager answers (each is reached once per run). */
async function summarizeUserManagers(stale: readonly StaleProcess[], users: UserManagers): Promise<Map<number, UserManagerSummary>> {
  const uids = [...new Set(stale.map(userOf).filter((uid): uid is number => uid !== undefined))].sort((a, b) => a - b);
  const summaries = new Map<number, UserManagerSummary>();
  for (const uid of uids) {
    const reached = await users.get(uid);
    const name = reached.name === undefined ? {} : { name: reached.name };
    summaries.set(uid, reached.state === 'running' ? { uid, ...name, manager: 'running' } : { uid, ...name, manager: 'absent', reason: reached.reason });
  }
  return summaries;
}
