import type { Owner } from '../types/owner.js';
import type { PlannedAction, UnitFacts } from '../types/plan.js';
import { managerPrefix, startableByHand, unitFactsKey } from './unit-key.js';

const UP = new Set(['active', 'reloading', 'activating']);

/**
 * A stop takes the units bound to its unit down with it (ConsistsOf=, BoundBy=: the units PartOf= or
 * BindsTo= it), and the start that follows brings back only the units it pulls in (Wants=, Requires=,
 * Upholds=). So that no running unit is left down by a stop-start of the plan, for each unit a
 * stop-start's stop takes down:
 * - one the plan brings back anyway (its own restart or stop-start, a reload that becomes a start),
 *   or that the start pulls in, is left as it is;
 * - one that can be started by hand gets a start after the stop-start's (phase start), in place of
 *   whatever the plan had for it (a skip would leave it down);
 * - one that systemd refuses to start by hand makes the stop-start a restart: systemd propagates a
 *   restart to it (PartOf=) and it keeps running.
 * Pure; `units` is keyed by `unitFactsKey`.
 */
export function keepDependentsUp(actions: readonly PlannedAction[], units: ReadonlyMap<string, UnitFacts>): PlannedAction[] {
  const byKey = new Map<string, PlannedAction[]>();
  for (const action of actions) {
    const key = unitFactsKey(action.owner);
    if (key !== undefined) byKey.set(key, [...(byKey.get(key) ?? []), action]);
  }
  const restartInstead = new Map<string, string>();
  const starts = new Map<string, PlannedAction>();
  for (const stop of actions.filter((a) => a.phase === 'stop' && a.action === 'stop-start')) {
    const key = unitFactsKey(stop.owner);
    const facts = key === undefined ? undefined : units.get(key);
    if (key === undefined || facts === undefined) continue;
    const prefix = managerPrefix(stop.owner) ?? '';
    const down = takenDown(facts).filter(({ unit }) => {
      const dependent = units.get(`${prefix}${unit}`);
      if (dependent === undefined || !UP.has(dependent.activeState ?? '') || (facts.pullsIn ?? []).includes(unit)) return false;
      return !(byKey.get(`${prefix}${unit}`) ?? []).some((a) => bringsBack(a, dependent));
    });
    const refusing = down.filter(({ unit }) => !startable(units.get(`${prefix}${unit}`)));
    if (refusing.length > 0) {
      const names = refusing.map(({ unit, link }) => `${unit} (${link})`).join(', ');
      restartInstead.set(key, `; restarted instead of stop-started: the stop would take down ${names}, which systemd refuses to start by hand`);
      continue;
    }
    for (const { unit, link } of down) {
      const dependentKey = `${prefix}${unit}`;
      if (starts.has(dependentKey)) continue;
      const planned = byKey.get(dependentKey)?.[0];
      const was = planned === undefined ? '' : ` (planned: ${planned.action} ${planned.reason})`;
      starts.set(dependentKey, {
        owner: planned?.owner ?? dependentOwner(stop.owner, unit),
        action: 'stop-start',
        reason: `the stop of ${stop.owner.name} (${link}) takes it down${was}: started again after it`,
        pids: planned?.pids ?? [],
        phase: 'start',
        unit,
        ...(stop.userManager === undefined ? {} : { userManager: stop.userManager }),
        ...(planned?.evidence === undefined ? {} : { evidence: planned.evidence }),
      });
    }
  }
  if (restartInstead.size === 0 && starts.size === 0) return [...actions];
  const kept: PlannedAction[] = [];
  for (const action of actions) {
    const key = unitFactsKey(action.owner) ?? '';
    const why = restartInstead.get(key);
    if (why !== undefined && action.action === 'stop-start') {
      if (action.phase === 'stop') kept.push({ ...action, action: 'restart', phase: 'restart', reason: `${action.reason}${why}` });
      continue;
    }
    if (!starts.has(key)) kept.push(action);
  }
  return [...kept, ...starts.values()];
}

/** The units a stop of this one takes down, and through which of their settings. */
function takenDown(facts: UnitFacts): { unit: string; link: string }[] {
  const seen = new Set<string>();
  const down: { unit: string; link: string }[] = [];
  for (const [list, link] of [[facts.consistsOf, 'PartOf='], [facts.boundBy, 'BindsTo=']] as const) {
    for (const unit of [...(list ?? [])].sort()) {
      if (!seen.has(unit)) down.push({ unit, link });
      seen.add(unit);
    }
  }
  return down;
}

function startable(facts: UnitFacts | undefined): boolean {
  return facts !== undefined && startableByHand(facts);
}

/** Whether a planned action of a unit that a stop takes down brings it back up. */
function bringsBack(action: PlannedAction, facts: UnitFacts): boolean {
  if (action.action === 'restart' || action.action === 'stop-start') return true;
  // A reload after the stop becomes a start (see startsAfterStops), when systemd allows one.
  return action.action === 'reload' && startable(facts);
}

function dependentOwner(of: Owner, unit: string): Owner {
  return { kind: of.kind, name: unit, ...(of.uid === undefined ? {} : { uid: of.uid }) };
}
