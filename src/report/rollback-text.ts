import type { RollbackArmed, RollbackIntent, RolledBack } from '../types/rollback.js';
import type { FleetHeld } from '../types/fleet.js';

/** Before the link is flipped: why, and what is restarted onto the old generation. */
export function rollbackBegunLine(intent: RollbackIntent): string {
  const units = unitList(intent);
  return `rolling back: ${intent.reason}; ${switchBack(intent)}, then ${units} restart onto it`;
}

export function rollbackFlippedLine(intent: RollbackIntent): string {
  return intent.link === undefined ? `back on ${intent.to}: \`${(intent.command ?? []).join(' ')}\` succeeded` : `${intent.link} -> ${intent.to} again`;
}

function switchBack(intent: RollbackIntent): string {
  return intent.link === undefined ? `\`${(intent.command ?? []).join(' ')}\` switches back to ${intent.to}` : `${intent.link} goes back to ${intent.to}`;
}

/** The closing line of a run that rolled back (after the counts). */
export function rollbackLine(rolledBack: RolledBack): string {
  const earlier = rolledBack.earlier === undefined ? '' : ` (by an earlier run of this switch, finished ${rolledBack.earlier}; nothing done again: --retry starts the switch afresh)`;
  if (!rolledBack.ok) return `ROLLBACK FAILED: ${rolledBack.cause ?? 'see the outcomes'}${earlier}`;
  const n = rolledBack.units.length + (rolledBack.userUnits?.length ?? 0);
  const back = rolledBack.link === undefined ? 'the rollback command switched back' : `${rolledBack.link} points at it again`;
  return `rolled back to ${rolledBack.to}: ${back}, ${n} unit${n === 1 ? '' : 's'} restarted onto it and verified${earlier}`;
}

/** A dry run's or a plan's word on its armed rollback: what would happen if a restart onto NEW failed. */
export function rollbackArmedLine(armed: RollbackArmed): string {
  const back =
    armed.link === undefined
      ? `\`${(armed.command ?? []).join(' ')}\` would run (RESTARTD_OLD=${armed.to}, RESTARTD_NEW=${armed.from}) to switch back to ${armed.to}`
      : `${armed.link} would go back from ${armed.from} to ${armed.to}`;
  const units = unitList(armed);
  return `rollback armed: if a restart, reload or start onto ${armed.from} fails, ${back}, then ${units} would restart onto it (exit 8)`;
}

/** "held: host h1 rolled back NEW (reason)": the one wording of a fleet hold, in text and causes. */
export function heldText(held: FleetHeld): string {
  return `held: host ${held.host} rolled back ${held.new} (at ${held.time}: ${held.reason}); nothing restarted here`;
}


/** System units by name, users' units with their uid: "a.service, app.service (uid 1000)". */
function unitList(of: Pick<RollbackIntent, 'units' | 'userUnits'>): string {
  const all = [...of.units, ...(of.userUnits ?? []).map((u) => `${u.unit} (uid ${u.uid})`)];
  return all.length === 0 ? 'no units' : all.join(', ');
}
