import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { readJsonFile, writeFileDurably } from '../journal/durable-file.js';
import { groupByUser } from '../report/status-users.js';
import { printable } from '../report/printable.js';
import type { UserNotice } from '../types/aware.js';
import type { PlannedAction } from '../types/plan.js';
import type { StaleProcess } from '../types/stale.js';
import type { StatusUser } from '../types/status.js';
import type { UserManagerSummary } from '../types/systemd.js';
import { terminalsOf, writeToTerminal } from './user-terminals.js';

const TOLD_FILE = 'users-told.json';
/** Old entries go first: the file stays small on a machine that runs for years. */
const MAX_TOLD = 10_000;
const ToldSchema = z.object({ version: z.literal(1), told: z.array(z.string().max(64)).max(MAX_TOLD) });

export interface TellUsersInput {
  /** The run's stale processes (those its manager owns). */
  stale: readonly StaleProcess[];
  actions: readonly PlannedAction[];
  userManagers?: ReadonlyMap<number, UserManagerSummary> | undefined;
  /** Where who was told about which process is kept, so a re-run tells nobody twice. */
  stateDir: string;
  procRoot?: string | undefined;
  /** Write to the users' terminals (default true); the event is emitted either way. */
  terminal?: boolean;
}

/** A process as told about: it stays told while it runs (pid and start time), whatever reruns. */
const toldKey = (p: Pick<StaleProcess, 'uid' | 'pid' | 'startTime'>, uid: number): string => `${uid}:${p.pid}:${p.startTime}`;

function readTold(path: string): string[] {
  try {
    const parsed = ToldSchema.safeParse(readJsonFile(path));
    return parsed.success ? parsed.data.told : [];
  } catch {
    // Not a regular file of ours (a link, a FIFO): nobody counts as told.
    return [];
  }
}

function writeTold(stateDir: string, told: readonly string[]): void {
  mkdirSync(stateDir, { recursive: true, mode: 0o755 });
  writeFileDurably(join(stateDir, TOLD_FILE), `${JSON.stringify({ version: 1, told: told.slice(-MAX_TOLD) })}\n`);
}

function isSessionLeader(pid: number, procRoot: string): boolean {
  try {
    const stat = readFileSync(`${procRoot}/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[3]) === pid;
  } catch {
    return false;
  }
}

/** The words a user gets about their programs restartd leaves running. Pure. */
export function noticeText(user: Pick<StatusUser, 'name'>, programs: ReadonlyArray<{ comm: string; pid: number }>, sessionLeader: boolean): string {
  const shown = programs.slice(0, 5).map((p) => `${p.comm} (pid ${p.pid})`).join(', ') + (programs.length > 5 ? ` and ${programs.length - 5} more` : '');
  const what = sessionLeader ? 'restart them, or log out and in again (your login session runs old code)' : 'restart them to run the new version';
  // One line: printable escapes a newline as well.
  return printable(`restartd: ${user.name ?? 'you'}, after the update ${programs.length === 1 ? '1 of your programs still runs' : `${programs.length} of your programs still run`} old code: ${shown}. Please ${what}.`);
}

/**
 * Tells each user about their stale programs that restartd will not restart (session apps, bare
 * processes, units the policy skips): a short message on each of their terminals that accepts
 * messages, and a `user:notified` event with the text. A process is told about once while it runs.
 */
export function tellUsers(input: TellUsersInput, notified: (notice: UserNotice) => void): void {
  const procRoot = input.procRoot ?? '/proc';
  const path = join(input.stateDir, TOLD_FILE);
  const told = readTold(path);
  const already = new Set(told);
  const byPid = new Map(input.stale.map((p) => [p.pid, p]));
  const fresh: string[] = [];
  for (const user of groupByUser(input.stale, input.actions, input.userManagers ?? new Map())) {
    const left = [
      ...user.sessionApps.filter((a) => a.fate === 'leave-running' || a.fate === 'skip').map((a) => ({ comm: a.comm, pid: a.pid })),
      ...user.units.filter((u) => u.fate === 'skip').flatMap((u) => u.pids.map((pid) => ({ comm: byPid.get(pid)?.comm ?? u.unit, pid }))),
    ].filter((p) => {
      const process = byPid.get(p.pid);
      return process !== undefined && !already.has(toldKey(process, user.uid));
    });
    if (left.length === 0) continue;
    const leader = user.sessionApps.some((a) => isSessionLeader(a.pid, procRoot));
    const text = noticeText(user, left, leader);
    const terminals = input.terminal === false ? [] : terminalsOf(left.map((p) => p.pid), procRoot).filter((t) => writeToTerminal(t, user.uid, `\r\n${text}\r\n`));
    for (const p of left) {
      const process = byPid.get(p.pid);
      if (process !== undefined) fresh.push(toldKey(process, user.uid));
    }
    notified({ uid: user.uid, ...(user.name === undefined ? {} : { name: user.name }), text, pids: left.map((p) => p.pid), terminals: terminals.map((t) => t.path) });
  }
  if (fresh.length > 0) writeTold(input.stateDir, [...told, ...fresh]);
}
