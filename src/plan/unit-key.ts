import type { Owner } from '../types/owner.js';
import type { UnitFacts } from '../types/plan.js';

/** The key of an owner's unit in `PlanInput.units`, or undefined for owners that are not units. */
export function unitFactsKey(owner: Owner): string | undefined {
  return managerPrefix(owner) === undefined ? undefined : unitKeyOf(owner, owner.name);
}

/**
 * One key for a unit wherever a run keeps something per unit (facts, MainPID before a job, settle
 * start, verify): the unit's name after its manager's prefix, so that a system unit and a user's unit
 * of the same name, or two users' units, never share an entry.
 */
export function unitKeyOf(owner: Owner, unit: string): string {
  return `${managerPrefix(owner) ?? `${owner.kind}/`}${unit}`;
}

/**
 * What a unit's key starts with, naming the manager that runs it: "" for the system manager,
 * "user/UID/" for a user's; other units of the same manager (its sockets, its dependents) are keyed
 * with the same prefix. Undefined for owners that are not units.
 */
export function managerPrefix(owner: Owner): string | undefined {
  if (owner.kind === 'system-unit') return '';
  if (owner.kind === 'user-unit' && owner.uid !== undefined) return `user/${owner.uid}/`;
  return undefined;
}

/** Whether systemd lets restartd start the unit by hand (no RefuseManualStart=yes, CanStart not no). */
export function startableByHand(facts: UnitFacts): boolean {
  return facts.refuseManualStart !== true && facts.canStart !== false;
}
