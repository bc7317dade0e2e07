import type { Config, UnitOverride } from '../config/schema.js';
import type { Owner } from '../types/owner.js';
import { matchesGlob } from '../config/glob.js';
import { findProtected, type ManagerScope } from './protected-units.js';
import { startableByHand } from './unit-key.js';
import type { Decision, SkipReason, UnitAction, UnitFacts } from '../types/plan.js';

/** The parts of the config the policy reads. */
export type PolicyConfig = Pick<Config, 'units' | 'protect' | 'unprotect'>;

/** Unit types systemd can restart; scopes hold processes it did not start. */
const RESTARTABLE_TYPES = new Set(['service', 'socket']);
const USER_MANAGER = /^user@(\d+)\.service$/;

/** The uid of a user manager's unit (user@UID.service), or undefined. */
export function userManagerUid(unitName: string): number | undefined {
  const match = USER_MANAGER.exec(unitName);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

/**
 * What to do with one owner of stale processes. Pure: a decision table over the owner, what is
 * known of its unit, and the config.
 *
 * By owner: kernel thread → skip; PID 1 → daemon-reexec; container → skip (containers are not
 * restarted by default); session scope or bare process → notify (never killed). Units (of the system
 * manager or of a user's) go through, first match wins:
 *  0. what systemd can do: a .scope → notify, a .mount/.swap/.slice/… → skip `unit-type`
 *     (a config `skip`/`notify` for it still applies);
 *  1. the config's `units[]` override (first matching entry);
 *     then a user's manager itself (user@UID.service) → daemon-reexec of that manager: restarting
 *     it would end the user's sessions, re-executing keeps every unit running (as NixOS does);
 *  2. the unit's `X-Restartd-Action=`;
 *  3. `RefuseManualStop=yes` → skip;
 *  4. NixOS `X-RestartIfChanged=false` → skip; `X-OnlyManualStart=true` → skip (only an admin starts it).
 *     3 and 4 forbid stopping, not reloading: with `X-ReloadIfChanged=true` on a unit that can
 *     reload they yield to it, as NixOS' switch-to-configuration does;
 *  5. the protected list: config `protect`, then the built-in table minus config `unprotect`;
 *  6. NixOS `X-ReloadIfChanged=true` → reload;
 *  7. otherwise restart — or stop-start when the unit file changed in the switch and
 *     `X-StopIfChanged` is not `false` (NixOS' default: stop with the old definition before the
 *     daemon-reload, start with the new one after it).
 * Without unit facts (the unit is not loaded, or the bus did not answer) steps 2–4 and 6–7 cannot
 * be judged: after 1 and 5, such a unit is skipped as `unit-unknown` rather than acted on blindly.
 * A reload (from any step) of a unit that cannot reload (`canReload: false`) becomes a restart,
 * unless RefuseManualStop forbids that too.
 * Last, what systemd allows by hand overrules every step: a restart or stop-start of a unit that
 * refuses a manual start (`RefuseManualStart=yes`, `CanStart=no`) or stop (`CanStop=no`) is a skip —
 * systemd would refuse the job, or stop the unit and refuse to start it again — with a hint naming
 * the units (PartOf=, BindsTo=) whose restart takes it along.
 */
export function decide(owner: Owner, unit: UnitFacts | undefined, config: PolicyConfig): Decision {
  switch (owner.kind) {
    case 'kernel-thread':
      return skip('kernel-thread', 'a kernel thread maps no files');
    case 'pid1':
      return { action: 'daemon-reexec', reason: 'PID 1, the system manager: it re-executes itself in place' };
    case 'container':
      return skip('container', `container ${owner.name}: containers are updated by their own image, not restarted by restartd`);
    case 'session-scope':
      return { action: 'notify', reason: `login session ${owner.name}: its processes are told, never killed` };
    case 'process':
      return { action: 'notify', reason: 'a process outside any unit: it is told, never killed' };
    case 'system-unit':
      return withinRefusals(decideUnit('system', owner.name, unit, config), owner.name, unit);
    case 'user-unit': {
      if (owner.uid === undefined) return skip('unit-unknown', `user unit ${owner.name} without the uid of its manager`);
      const decision = withinRefusals(decideUnit('user', owner.name, unit, config), owner.name, unit);
      if (decision.action === 'restart' || decision.action === 'reload' || decision.action === 'stop-start') {
        return { ...decision, reason: `${decision.reason} (through the user manager of uid ${owner.uid})` };
      }
      return decision;
    }
  }
}

function decideUnit(scope: ManagerScope, name: string, unit: UnitFacts | undefined, config: PolicyConfig): Decision {
  const overrideAt = config.units.findIndex((entry) => matchesGlob(entry.match, name));
  const override = config.units[overrideAt];
  const overrideSource = override ? configSource(overrideAt, override) : '';

  const type = name.slice(name.lastIndexOf('.') + 1);
  if (!RESTARTABLE_TYPES.has(type)) {
    if (override?.action === 'skip') return skip('config-skip', overrideSource);
    if (type === 'scope' || override?.action === 'notify') {
      return { action: 'notify', reason: `a .${type} unit: systemd did not start its processes and cannot restart them; they are told` };
    }
    return skip('unit-type', `a .${type} unit: systemd cannot restart it in place`);
  }

  // 1. config override, then the user manager
  if (override) return requested(override.action, overrideSource, 'config-skip', name, unit);
  const managerOf = scope === 'system' ? userManagerUid(name) : undefined;
  if (managerOf !== undefined) {
    return { action: 'daemon-reexec', reason: `the service manager of uid ${managerOf}: it re-executes itself in place, its units keep running` };
  }
  // 2. X-Restartd-Action=
  if (unit?.xRestartdAction !== undefined) {
    return requested(unit.xRestartdAction, `X-Restartd-Action=${unit.xRestartdAction}`, 'x-restartd-action-skip', name, unit);
  }
  // 3, 4. keys that forbid a stop (not a reload the unit asks for)
  const reloadAsked = unit?.xReloadIfChanged === true && unit.canReload !== false;
  if (unit?.refuseManualStop === true && !reloadAsked) {
    return skip('refuse-manual-stop', `RefuseManualStop=yes: systemd refuses to stop or restart it${pulledInBy(unit)}`);
  }
  if (unit?.xRestartIfChanged === false && !reloadAsked) {
    return skip('x-restart-if-changed-false', 'X-RestartIfChanged=false: the unit asks not to be restarted');
  }
  if (unit?.xOnlyManualStart === true && !reloadAsked) {
    return skip('x-only-manual-start', `X-OnlyManualStart=true: only an admin starts it${pulledInBy(unit)}`);
  }
  // 5. protected units
  const guarded = protectedDecision(scope, name, config);
  if (guarded) return guarded;
  if (unit === undefined) return skip('unit-unknown', `${name} is not known to its manager: nothing to decide from`);
  // 6. X-ReloadIfChanged=true
  if (unit.xReloadIfChanged === true) {
    const despite = unit.refuseManualStop ? ' (RefuseManualStop=yes allows a reload)' : unit.xRestartIfChanged === false ? ' (X-RestartIfChanged=false allows a reload)' : '';
    return reloadOrRestart(`X-ReloadIfChanged=true${despite}`, name, unit);
  }
  // 7. the default
  if (unit.unitFileChanged === true && unit.xStopIfChanged !== false) {
    return { action: 'stop-start', reason: 'its unit file changed: stopped with the old definition, started with the new one (X-StopIfChanged)' };
  }
  if (unit.unitFileChanged === true) return { action: 'restart', reason: 'its unit file changed and X-StopIfChanged=false: restarted' };
  return { action: 'restart', reason: 'default' };
}

function requested(action: UnitAction, source: string, skipReason: SkipReason, name: string, unit: UnitFacts | undefined): Decision {
  switch (action) {
    case 'skip':
      return skip(skipReason, source);
    case 'reload':
      return reloadOrRestart(source, name, unit);
    default:
      return { action, reason: source };
  }
}

function reloadOrRestart(source: string, name: string, unit: UnitFacts | undefined): Decision {
  if (unit?.canReload !== false) return { action: 'reload', reason: source };
  if (unit.refuseManualStop === true) {
    return skip('refuse-manual-stop', `${source}, but ${name} cannot reload (no ExecReload=) and RefuseManualStop=yes forbids a restart`);
  }
  return { action: 'restart', reason: `${source}, but ${name} cannot reload (no ExecReload=): restarted instead` };
}

/**
 * systemd's own refusals, applied to any decision that stops the unit: RestartUnit and StopUnit are
 * refused for RefuseManualStop=yes, and a restart of a RefuseManualStart=yes unit would stop it, then
 * have its start refused, leaving it down. A reload is neither. Pure.
 */
function withinRefusals(decision: Decision, name: string, unit: UnitFacts | undefined): Decision {
  if (unit === undefined || (decision.action !== 'restart' && decision.action !== 'stop-start')) return decision;
  if (!startableByHand(unit)) {
    const key = unit.refuseManualStart === true ? 'RefuseManualStart=yes' : 'CanStart=no';
    return skip('refuse-manual-start', `${key}: systemd refuses to start ${name} by hand, so a ${decision.action} would leave it stopped${pulledInBy(unit)}`);
  }
  if (unit.canStop === false) {
    return skip('refuse-manual-stop', `CanStop=no: systemd refuses to stop or restart ${name} by hand${pulledInBy(unit)}`);
  }
  return decision;
}

/** The hint of a refusal: the units whose restart restarts this one (PartOf=) or whose stop stops it (BindsTo=). */
export function pulledInBy(unit: UnitFacts): string {
  const by = [...(unit.partOf ?? []).map((u) => `${u} (PartOf=)`), ...(unit.bindsTo ?? []).map((u) => `${u} (BindsTo=)`)];
  return by.length === 0 ? '' : `; restart ${by.join(', ')} to restart it with it`;
}

function protectedDecision(scope: ManagerScope, name: string, config: PolicyConfig): Decision | undefined {
  const protectedBy = config.protect.find((pattern) => matchesGlob(pattern, name));
  if (protectedBy !== undefined) return skip('protected-unit', `protected by the config (protect "${protectedBy}")`);
  if (config.unprotect.some((pattern) => matchesGlob(pattern, name))) return undefined;
  const row = findProtected(scope, name);
  if (!row) return undefined;
  if (row.then === 'skip') return skip('protected-unit', row.why);
  return { action: row.then, reason: row.why };
}

function configSource(index: number, entry: UnitOverride): string {
  return `config units[${index}] ("${entry.match}")${entry.reason === undefined ? '' : `: ${entry.reason}`}`;
}

function skip(reason: SkipReason, detail: string): Decision {
  return { action: 'skip', reason, detail };
}
