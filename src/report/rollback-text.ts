import type { RollbackIntent, RolledBack } from '../types/rollback.js';

/** Before the link is flipped: why, and what is restarted onto the old generation. */
export function rollbackBegunLine(intent: RollbackIntent): string {
  const units = intent.units.length === 0 ? 'no units' : intent.units.join(', ');
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
  if (!rolledBack.ok) return `ROLLBACK FAILED: ${rolledBack.cause ?? 'see the outcomes'}`;
  const n = rolledBack.units.length;
  const back = rolledBack.link === undefined ? 'the rollback command switched back' : `${rolledBack.link} points at it again`;
  return `rolled back to ${rolledBack.to}: ${back}, ${n} unit${n === 1 ? '' : 's'} restarted onto it and verified`;
}
