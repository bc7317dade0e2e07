import type { RollbackIntent, RolledBack } from '../types/rollback.js';

/** Before the link is flipped: why, and what is restarted onto the old generation. */
export function rollbackBegunLine(intent: RollbackIntent): string {
  const units = intent.units.length === 0 ? 'no units' : intent.units.join(', ');
  return `rolling back: ${intent.reason}; ${intent.link} goes back to ${intent.to}, then ${units} restart onto it`;
}

export function rollbackFlippedLine(link: string, target: string): string {
  return `${link} -> ${target} again`;
}

/** The closing line of a run that rolled back (after the counts). */
export function rollbackLine(rolledBack: RolledBack): string {
  if (!rolledBack.ok) return `ROLLBACK FAILED: ${rolledBack.cause ?? 'see the outcomes'}`;
  const n = rolledBack.units.length;
  return `rolled back to ${rolledBack.to}: ${rolledBack.link} points at it again, ${n} unit${n === 1 ? '' : 's'} restarted onto it and verified`;
}
