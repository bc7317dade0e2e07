import type { PlannedAction } from '../types/plan.js';
import type { StaleProcess } from '../types/stale.js';
import type { StatusUser, UserFate } from '../types/status.js';
import type { UserManagerSummary } from '../types/systemd.js';

/** The uid a stale process belongs to as a user's: a user unit's or session's, or a bare process's own (not root's). */
export function userOf(process: Pick<StaleProcess, 'owner' | 'uid'>): number | undefined {
  const { owner } = process;
  if (owner.kind === 'user-unit' || owner.kind === 'session-scope') return owner.uid;
  return owner.kind === 'process' && process.uid > 0 ? process.uid : undefined;
}

function fateOf(action: PlannedAction | undefined): UserFate {
  if (action === undefined) return 'leave-running';
  switch (action.action) {
    case 'restart':
    case 'reload':
    case 'stop-start':
    case 'daemon-reexec':
      return 'restart';
    case 'notify':
      // Told when registered as update-aware (a fallback is set then); otherwise left running.
      return action.fallback !== undefined ? 'tell' : 'leave-running';
    case 'skip':
      return 'skip';
    case 'reboot-hint':
      return 'leave-running';
  }
}

/**
 * Stale processes grouped by user (uid ascending): each user's units with the plan's action, and
 * their session apps and bare processes, told or left running. Pure.
 */
export function groupByUser(stale: readonly StaleProcess[], actions: readonly PlannedAction[], managers: ReadonlyMap<number, UserManagerSummary>): StatusUser[] {
  const actionOf = new Map<number, PlannedAction>();
  for (const action of actions) for (const pid of action.pids) if (!actionOf.has(pid) || action.phase !== 'start') actionOf.set(pid, action);
  const users = new Map<number, StatusUser>();
  for (const process of stale) {
    const uid = userOf(process);
    if (uid === undefined) continue;
    let user = users.get(uid);
    if (user === undefined) {
      const known = managers.get(uid);
      user = {
        uid,
        ...(known?.name === undefined ? {} : { name: known.name }),
        manager: known?.manager ?? 'absent',
        ...(known?.reason === undefined ? {} : { managerReason: known.reason }),
        units: [],
        sessionApps: [],
      };
      users.set(uid, user);
    }
    const action = actionOf.get(process.pid);
    if (process.owner.kind === 'user-unit') {
      const listed = user.units.find((u) => u.unit === process.owner.name);
      if (listed) listed.pids.push(process.pid);
      else user.units.push({ unit: process.owner.name, action: action?.action ?? 'none', reason: action?.reason ?? 'not planned', pids: [process.pid], fate: fateOf(action) });
    } else {
      user.sessionApps.push({ pid: process.pid, comm: process.comm, owner: process.owner.name, fate: fateOf(action) });
    }
  }
  return [...users.values()].sort((a, b) => a.uid - b.uid);
}

/** The human lines of the users' section: one per user, then their units and apps. Pure. */
export function userLines(users: readonly StatusUser[]): string[] {
  if (users.length === 0) return ['none'];
  const verb: Record<UserFate, string> = { restart: 'restarted through their manager', tell: 'told', 'leave-running': 'left running', skip: 'skipped' };
  const lines: string[] = [];
  for (const user of users) {
    const manager = user.manager === 'running' ? 'manager running' : `manager absent${user.managerReason === undefined ? '' : ` (${user.managerReason})`}`;
    lines.push(`${user.name ?? '?'} (uid ${user.uid}): ${manager}`);
    for (const unit of user.units) lines.push(`  ${unit.unit}: ${verb[unit.fate]}${unit.fate === 'skip' ? ` (${unit.reason})` : ''}`);
    for (const app of user.sessionApps) lines.push(`  ${app.comm} (pid ${app.pid}, ${app.owner}): ${verb[app.fate]}`);
    if (user.notified !== undefined) {
      const { at, channels, old, new: next } = user.notified;
      const where = channels.length === 0 ? 'on no channel (the event only)' : `by ${channels.join(' and ')}`;
      lines.push(`  told ${at} ${where}, for ${old === next ? old : `${old} -> ${next}`}`);
    }
  }
  return lines;
}
