import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as z from 'zod';
import { readJsonFile, writeFileDurably } from '../journal/durable-file.js';
import { groupByUser } from '../report/status-users.js';
import type { NotifyChannel, UserNotice } from '../types/aware.js';
import type { PlannedAction } from '../types/plan.js';
import type { StaleProcess } from '../types/stale.js';
import type { RebootTier } from '../types/status.js';
import type { UserManagers, UserManagerSummary } from '../types/systemd.js';
import { loginTerminals, readLogins, type Logins } from './login-terminals.js';
import { adviceFor, desktopNotice, noticeProgram, noticeText } from './notice-text.js';
import { terminalsOf, writeToTerminals } from './user-terminals.js';

const TOLD_FILE = 'users-told.json';
/** Old entries go first: the file stays small on a machine that runs for years. */
const MAX_TOLD = 10_000;
const ToldSchema = z.object({ version: z.literal(1), told: z.array(z.string().max(64)).max(MAX_TOLD) });
/** How long one user's notification server may take to answer. */
const DESKTOP_TIMEOUT_MS = 10_000;

/** A switch's record of whom it told: a user told for a switch is not told again by its re-runs or repeated hooks. */
export interface UsersToldJournal {
  told(uid: number): boolean;
  record(notice: UserNotice): void;
  /** A run on the live scan: no switch names it, so each process is told about once while it runs. */
  live: boolean;
}

export interface TellUsersInput {
  /** The run's stale processes (those its manager owns). */
  stale: readonly StaleProcess[];
  actions: readonly PlannedAction[];
  userManagers?: ReadonlyMap<number, UserManagerSummary> | undefined;
  /** The users' managers, each reached by a child acting as that user: desktop notifications go through them. */
  users?: UserManagers | undefined;
  /** Where who was told about which process is kept (a run on the live scan, or one without a journal). */
  stateDir: string;
  /** The switch's journal (absent: an unjournaled run, told once per process). */
  journal?: UsersToldJournal | undefined;
  procRoot?: string | undefined;
  /** Where the system's /run and /dev are (logind's sessions, utmp): "" for ours, the manager's root prefix. */
  rootPrefix?: string | undefined;
  /** The config's `notify` (default: both on); the event is emitted either way. */
  channels?: { desktop?: boolean | undefined; terminal?: boolean | undefined } | undefined;
  /** The reboot tier after this run: `reboot` or `soft-reboot` makes the advice a reboot. */
  reboot?: RebootTier | undefined;
}

/** A process as told about: it stays told while it runs (pid and start time), whatever reruns. */
const toldKey = (p: Pick<StaleProcess, 'pid' | 'startTime'>, uid: number): string => `${uid}:${p.pid}:${p.startTime}`;

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

const why = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * Tells each user about their stale programs that restartd will not restart (session apps, bare
 * processes, units the policy skips), once per switch: a desktop notification on their session bus
 * (sent by the child acting as them), a line on each of their terminals open to messages (their
 * processes' controlling ttys, their logind sessions' and utmp logins'), and a `user:notified`
 * event with the text. What cannot be reached (no bus, no notification server) is a warning.
 */
export async function tellUsers(input: TellUsersInput, notified: (notice: UserNotice) => void, warn: (message: string) => void = () => {}): Promise<void> {
  const procRoot = input.procRoot ?? '/proc';
  const path = join(input.stateDir, TOLD_FILE);
  const told = readTold(path);
  // Once per switch; a run on the live scan (or without a journal) knows only the processes it told.
  const perProcess = input.journal === undefined || input.journal.live;
  const already = new Set(perProcess ? told : []);
  const byPid = new Map(input.stale.map((p) => [p.pid, p]));
  const fresh: string[] = [];
  const telling: Promise<void>[] = [];
  // Who is logged in where: read once, for the first user with something to be told.
  let logins: Logins | undefined;
  for (const user of groupByUser(input.stale, input.actions, input.userManagers ?? new Map())) {
    if (input.journal?.told(user.uid) === true) continue;
    const candidates: Array<{ pid: number; unit?: string }> = [
      ...user.sessionApps.filter((a) => a.fate === 'leave-running' || a.fate === 'skip').map((a) => ({ pid: a.pid })),
      ...user.units.filter((u) => u.fate === 'skip').flatMap((u) => u.pids.map((pid) => ({ pid, unit: u.unit }))),
    ];
    const left = candidates.flatMap(({ pid, unit }) => {
      const process = byPid.get(pid);
      return process === undefined || already.has(toldKey(process, user.uid)) ? [] : [{ process, unit }];
    });
    if (left.length === 0) continue;
    const programs = left.map(({ process, unit }) => noticeProgram(process, unit));
    // The leader of a login session (its shell) runs old code: only a new login gets the new one.
    const advice = adviceFor(input.reboot, left.some(({ process }) => process.owner.kind === 'session-scope' && isSessionLeader(process.pid, procRoot)));
    const text = noticeText(user, programs, advice);
    const channels: NotifyChannel[] = [];
    let terminals: string[] = [];
    if (input.channels?.terminal !== false) {
      logins ??= readLogins(input.rootPrefix ?? '');
      const ttys = [...terminalsOf(left.map(({ process }) => process.pid), procRoot), ...loginTerminals(user, logins, input.rootPrefix ?? '')];
      terminals = writeToTerminals(ttys, user.uid, `\r\n${text}\r\n`);
      if (terminals.length > 0) channels.push('terminal');
    }
    for (const { process } of left) fresh.push(toldKey(process, user.uid));
    const desktop = input.channels?.desktop === false ? Promise.resolve(false) : notifyDesktop(input.users, user, text, advice, programs, warn);
    telling.push(
      desktop.then((sent) => {
        const notice: UserNotice = {
          uid: user.uid,
          ...(user.name === undefined ? {} : { name: user.name }),
          text,
          channels: sent ? ['desktop', ...channels] : channels,
          pids: left.map(({ process }) => process.pid),
          terminals,
        };
        input.journal?.record(notice);
        notified(notice);
      }),
    );
  }
  await Promise.all(telling);
  if (fresh.length > 0) writeTold(input.stateDir, [...told, ...fresh]);
}

/** One desktop notification through the user's child; a user without a reachable session bus or notification server is a warning. */
async function notifyDesktop(
  users: UserManagers | undefined,
  user: { uid: number; name?: string | undefined },
  text: string,
  advice: Parameters<typeof desktopNotice>[1],
  programs: Parameters<typeof desktopNotice>[2],
  warn: (message: string) => void,
): Promise<boolean> {
  const who = `${user.name ?? 'uid'} (uid ${user.uid})`;
  if (users === undefined) return false;
  try {
    const reached = await users.get(user.uid);
    if (reached.state !== 'running') {
      warn(`no desktop notification for ${who}: ${reached.reason}`);
      return false;
    }
    await reached.manager.notify({ appName: 'restartd', ...desktopNotice(text, advice, programs), timeoutMs: DESKTOP_TIMEOUT_MS });
    return true;
  } catch (error) {
    warn(`no desktop notification for ${who}: ${why(error)}`);
    return false;
  }
}
