import type { RebootDecision } from './types.js';

/** Nagios levels for `restartd status`: 0 OK, 1 restarts needed (WARNING), 2 reboot needed (CRITICAL). Pure. */
export function statusExitCode(reboot: RebootDecision, staleCount: number): 0 | 1 | 2 {
  if (reboot.tier === 'reboot' || reboot.tier === 'soft-reboot') return 2;
  return reboot.tier === 'none' && staleCount === 0 ? 0 : 1;
}
