import type { Plan } from '../types/plan.js';
import type { RollbackArmed, UserUnitRef } from '../types/rollback.js';
import type { RollbackHow } from './rollback.js';

/** The actions that put a unit onto the new generation (a rollback restarts their units onto the old one). */
export const ONTO_NEW: ReadonlySet<string> = new Set(['restart', 'reload', 'stop-start']);

/**
 * What an armed rollback would do for a plan (a dry run, `plan`): go back from `next` to `old` by the
 * link or the command, then restart onto `old` every unit the plan puts onto `next`.
 */
export function armedRollback(how: RollbackHow, old: string, next: string, plan: Plan): RollbackArmed {
  const units = new Set<string>();
  const userUnits = new Map<string, UserUnitRef>();
  for (const action of plan.actions) {
    if (!ONTO_NEW.has(action.action) || action.unit === undefined) continue;
    if (action.owner.kind === 'system-unit') units.add(action.unit);
    else if (action.owner.kind === 'user-unit' && action.userManager !== undefined) userUnits.set(`${action.userManager.uid}/${action.unit}`, { uid: action.userManager.uid, unit: action.unit });
  }
  const users = sortUserUnits([...userUnits.values()]);
  return { ...(how.link === undefined ? { command: how.command } : { link: how.link }), from: next, to: old, units: [...units].sort(), ...(users.length === 0 ? {} : { userUnits: users }) };
}

/** By uid, then unit name. */
export function sortUserUnits(units: UserUnitRef[]): UserUnitRef[] {
  return units.sort((a, b) => a.uid - b.uid || a.unit.localeCompare(b.unit));
}
