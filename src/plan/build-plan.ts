import type { StaleProcess } from '../types/stale.js';
import type { Owner, OwnerKind } from '../types/owner.js';
import { compare, summarizeEvidence } from './evidence.js';
import { decide, pulledInBy, userManagerUid, type PolicyConfig } from './policy.js';
import { socketsToChange, type SocketContext } from './socket-units.js';
import { keepDependentsUp } from './keep-dependents-up.js';
import { managerPrefix, startableByHand, unitFactsKey } from './unit-key.js';
import { PHASES, type Decision, type Phase, type Plan, type PlannedAction, type UnitFacts } from '../types/plan.js';

export interface PlanInput {
  /** Facts per unit, keyed by `unitFactsKey(owner)`: the name for system units, "user/UID/NAME" for user units. */
  units: ReadonlyMap<string, UnitFacts>;
  config: PolicyConfig;
  /** Some system unit file changed in the switch (even of a unit with no stale process). */
  unitFilesChanged?: boolean;
  /**
   * Stale processes with a trusted registration as update-aware (pid → the name it registered):
   * a unit all of whose stale processes are here is told instead of restarted (src/aware).
   */
  aware?: ReadonlyMap<number, string>;
  /** Users whose own manager could not be reached (uid → why): their units are skipped and reported. */
  absentUserManagers?: ReadonlyMap<number, string>;
}

const KIND_ORDER: Record<OwnerKind, number> = {
  pid1: 0,
  'system-unit': 1,
  'user-unit': 2,
  'session-scope': 3,
  process: 4,
  container: 5,
  'kernel-thread': 6,
};

const USER_KEY = /^user\/(\d+)\//;


/**
 * The plan for a set of stale processes. Pure and deterministic: processes are grouped by owner
 * (one unit with 40 stale workers is one action with 40 pids), each owner gets the policy's decision,
 * and the actions are ordered by phase, then owner kind, uid and name.
 */
export function buildPlan(stale: readonly StaleProcess[], input: PlanInput): Plan {
  const groups = new Map<string, { owner: Owner; processes: StaleProcess[] }>();
  for (const process of stale) {
    const { owner } = process;
    const key = `${owner.kind}\0${owner.uid ?? ''}\0${owner.name}`;
    let group = groups.get(key);
    if (!group) {
      group = { owner, processes: [] };
      groups.set(key, group);
    }
    group.processes.push(process);
  }

  const staleOwners = new Set([...groups.values()].map(({ owner }) => unitFactsKey(owner)).filter((key): key is string => key !== undefined));
  const actions: PlannedAction[] = [];
  for (const { owner, processes } of groups.values()) {
    const factsKey = unitFactsKey(owner);
    const facts = factsKey === undefined ? undefined : input.units.get(factsKey);
    const policy = userManagerAbsent(owner, input) ?? decide(owner, facts, input.config);
    const decision = awareInstead(policy, processes, input.aware);
    // Sockets are named as the service's manager names them: "user/UID/" prefixed for a user unit.
    const prefix = managerPrefix(owner) ?? '';
    const sockets: SocketContext = { facts: (socket) => input.units.get(`${prefix}${socket}`), isStale: (socket) => staleOwners.has(`${prefix}${socket}`) };
    const base = { ...baseAction(owner, decision, processes, socketsToChange(decision, facts, sockets)), ...(decision === policy ? {} : { fallback: policy.action === 'reload' ? ('reload' as const) : ('restart' as const) }) };
    if (decision.action === 'stop-start') {
      actions.push({ ...base, phase: 'stop' }, { ...base, phase: 'start' });
    } else {
      actions.push({ ...base, phase: phaseOf(decision) });
    }
  }
  const ordered = startsAfterStops(keepDependentsUp(actions, input.units), input.units).sort(byPlanOrder);

  const { system, users } = daemonReloads(input);
  return { daemonReload: system, ...(users.length > 0 ? { userDaemonReloads: users } : {}), actions: ordered };
}

/**
 * A reload of a unit that a stop earlier in the same plan takes down (it is PartOf= or BindsTo= a
 * unit stopped in phase stop) would find it inactive: it becomes a start (the start half of a
 * stop-start), as switch-to-configuration-ng does. Unless the unit refuses a manual start. Pure.
 */
function startsAfterStops(actions: readonly PlannedAction[], units: PlanInput['units']): PlannedAction[] {
  const stopped = new Set(actions.filter((a) => a.phase === 'stop').map((a) => unitFactsKey(a.owner)));
  if (stopped.size === 0) return [...actions];
  return actions.map((action) => {
    const key = action.action === 'reload' ? unitFactsKey(action.owner) : undefined;
    const facts = key === undefined ? undefined : units.get(key);
    if (facts === undefined) return action;
    const prefix = managerPrefix(action.owner) ?? '';
    const [by, link] = [...(facts.partOf ?? []).map((u) => [u, 'PartOf='] as const), ...(facts.bindsTo ?? []).map((u) => [u, 'BindsTo='] as const)]
      .find(([u]) => stopped.has(`${prefix}${u}`)) ?? [];
    if (by === undefined) return action;
    const why = `${action.reason}; but the stop of ${by} (${link}) earlier in this plan takes it down`;
    if (!startableByHand(facts)) {
      const { sockets: _none, ...rest } = action;
      return { ...rest, action: 'skip', phase: 'none', reason: 'refuse-manual-start', detail: `${why}, and systemd refuses to start it by hand${pulledInBy(facts)}` };
    }
    return { ...action, action: 'stop-start', phase: 'start', reason: `${why}: started instead of reloaded` };
  });
}

function userManagerAbsent(owner: Owner, input: PlanInput): Decision | undefined {
  const why = owner.kind === 'user-unit' && owner.uid !== undefined ? input.absentUserManagers?.get(owner.uid) : undefined;
  return why === undefined ? undefined : { action: 'skip', reason: 'user-manager-absent', detail: why };
}

/**
 * The policy's restart, reload or stop-start becomes a notify when every stale process of the owner
 * registered as update-aware; the policy's action stays the fallback. Anything else (a skip, PID 1,
 * a unit with some unregistered process) is left as the policy decided. Pure.
 */
function awareInstead(policy: Decision, processes: readonly StaleProcess[], aware: ReadonlyMap<number, string> | undefined): Decision {
  if (aware === undefined || aware.size === 0) return policy;
  if (policy.action !== 'restart' && policy.action !== 'reload' && policy.action !== 'stop-start') return policy;
  const names: string[] = [];
  for (const p of processes) {
    const name = aware.get(p.pid);
    if (name === undefined) return policy;
    names.push(name);
  }
  const who = [...new Set(names)].sort(compare).join(', ');
  return { action: 'notify', reason: `update-aware: ${who} registered to handle updates itself; told instead of a ${policy.action}, which stays the fallback` };
}

function baseAction(owner: Owner, decision: Decision, processes: readonly StaleProcess[], sockets: readonly string[]): Omit<PlannedAction, 'phase'> {
  const isUnit = owner.kind === 'system-unit' || owner.kind === 'user-unit';
  return {
    owner,
    action: decision.action,
    reason: decision.reason,
    ...(decision.action === 'skip' && decision.detail !== undefined ? { detail: decision.detail } : {}),
    pids: [...new Set(processes.map((p) => p.pid))].sort((a, b) => a - b),
    ...(isUnit ? { unit: owner.name } : {}),
    ...userManagerOf(owner, decision),
    ...(sockets.length > 0 ? { sockets: [...sockets] } : {}),
    evidence: summarizeEvidence(processes),
  };
}

// The user manager that runs the job: a user unit's, or the one a user@UID.service re-executes.
function userManagerOf(owner: Owner, decision: Decision): Pick<PlannedAction, 'userManager'> {
  if (owner.kind === 'user-unit' && owner.uid !== undefined) return { userManager: { uid: owner.uid } };
  const uid = owner.kind === 'system-unit' && decision.action === 'daemon-reexec' ? userManagerUid(owner.name) : undefined;
  return uid === undefined ? {} : { userManager: { uid } };
}

function phaseOf(decision: Decision): Phase | 'none' {
  switch (decision.action) {
    case 'restart':
      return 'restart';
    case 'reload':
      return 'reload';
    case 'stop-start':
      return 'stop';
    case 'notify':
      return 'notify';
    case 'daemon-reexec':
      return 'daemon-reload';
    case 'skip':
    case 'reboot-hint':
      return 'none';
  }
}

function byPlanOrder(a: PlannedAction, b: PlannedAction): number {
  return (
    phaseIndex(a.phase) - phaseIndex(b.phase) ||
    // Among the actions that run no job, a needed reboot comes before the skips.
    Number(a.action === 'skip') - Number(b.action === 'skip') ||
    KIND_ORDER[a.owner.kind] - KIND_ORDER[b.owner.kind] ||
    (a.owner.uid ?? -1) - (b.owner.uid ?? -1) ||
    // Bare processes are named "pid:N": order them by number, not as strings.
    (a.owner.kind === 'process' ? (a.pids[0] ?? 0) - (b.pids[0] ?? 0) : 0) ||
    compare(a.owner.name, b.owner.name)
  );
}

function phaseIndex(phase: Phase | 'none'): number {
  return phase === 'none' ? PHASES.length : PHASES.indexOf(phase);
}

function daemonReloads(input: PlanInput): { system: boolean; users: number[] } {
  let system = input.unitFilesChanged === true;
  const users = new Set<number>();
  for (const [key, facts] of input.units) {
    if (facts.unitFileChanged !== true) continue;
    const user = USER_KEY.exec(key);
    if (user) users.add(Number(user[1]));
    else system = true;
  }
  return { system, users: [...users].sort((a, b) => a - b) };
}
