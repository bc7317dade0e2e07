import type { PlannedAction } from '../types/plan.js';

/** The manager that runs a job: the system manager, or a user's (user@UID.service). */
export type JobManager = { kind: 'system' } | { kind: 'user'; uid: number };

/** A systemd manager call a planned action stands for (org.freedesktop.systemd1.Manager methods). */
export type UnitJob =
  | { method: 'RestartUnit' | 'ReloadUnit' | 'StopUnit' | 'StartUnit'; unit: string; manager: JobManager; sockets: string[] }
  | { method: 'Reexecute'; manager: JobManager };

/**
 * The systemd call for a planned action, or undefined when there is none (notify, skip,
 * reboot-hint). One source of truth for the executor: the job follows from action and phase, so a
 * stop-start is StopUnit in phase stop and StartUnit in phase start. Pure.
 */
export function unitJobOf(action: PlannedAction): UnitJob | undefined {
  const manager: JobManager = action.userManager ? { kind: 'user', uid: action.userManager.uid } : { kind: 'system' };
  if (action.action === 'daemon-reexec') return { method: 'Reexecute', manager };
  if (action.unit === undefined) return undefined;
  const sockets = action.sockets ?? [];
  switch (action.action) {
    case 'restart':
      return { method: 'RestartUnit', unit: action.unit, manager, sockets };
    case 'reload':
      return { method: 'ReloadUnit', unit: action.unit, manager, sockets };
    case 'stop-start':
      return { method: action.phase === 'start' ? 'StartUnit' : 'StopUnit', unit: action.unit, manager, sockets };
    default:
      return undefined;
  }
}
