import { lstatSync } from 'node:fs';
import { join } from 'node:path';
import { readIdentity } from '../aware/proc-identity.js';
import type { UserAccount } from './user-account.js';
import type { ManagerProcess, SystemdManager } from '../types/systemd.js';
import { hostPidOf } from './manager-process.js';

/** A way into the user's manager as root finds it in the runtime dir (lstat: a link is not followed). */
export type SocketFact = 'socket' | 'link' | 'not-a-socket' | 'not-the-users' | 'missing';

/** What the system manager and the filesystem say of one user's manager, before any child is started. */
export interface UserManagerFacts {
  /** user@UID.service as the system manager has it; undefined when there is no system manager to ask. */
  unit?: { name: string; activeState: string; subState: string; mainPid: number };
  /** The manager's root dir as root reaches it: the child's cwd. */
  root: string;
  /** The manager's process here (found running as the user), when the system manager named it. */
  hostPid?: number;
  bus: SocketFact;
  privateSocket: SocketFact;
}

export interface FactsOptions {
  system?: SystemdManager | undefined;
  /** The system manager's process, when there is no system manager to ask. */
  process?: ManagerProcess | undefined;
}

/**
 * Asks the system manager for user@UID.service (its state, its main process) and looks at the
 * user's sockets, through the user manager's own root (`/proc/PID/root` of its process) when it
 * is found running as the user, else the system manager's.
 */
export async function gatherUserManagerFacts(account: UserAccount, options: FactsOptions): Promise<UserManagerFacts> {
  const name = `user@${account.uid}.service`;
  const process = options.system?.process ?? options.process;
  let unit: UserManagerFacts['unit'];
  try {
    const state = await options.system?.unitState(name);
    if (state !== undefined) unit = { name, activeState: state.activeState, subState: state.subState, mainPid: state.mainPid };
  } catch {
    // The system manager did not answer: the sockets alone decide.
  }
  const pid = unit !== undefined && unit.mainPid > 0 ? hostPidOf(process, unit.mainPid) : undefined;
  const hostPid = pid !== undefined && (await runsAs(pid, account.uid)) ? pid : undefined;
  const root = hostPid === undefined ? `${process?.rootPrefix ?? ''}/` : `/proc/${hostPid}/root`;
  const runtimeDir = join(root, 'run', 'user', String(account.uid));
  return { ...(unit === undefined ? {} : { unit }), ...(hostPid === undefined ? {} : { hostPid }), root, bus: socketFact(join(runtimeDir, 'bus'), account.uid), privateSocket: socketFact(join(runtimeDir, 'systemd', 'private'), account.uid) };
}

/**
 * Why the user's manager is absent, from the facts alone; undefined when a child may reach it.
 * Not running by the system manager's word, or running with no way in: no bus and no private
 * socket of the user's.
 */
export function absenceOf(facts: UserManagerFacts, account: UserAccount): string | undefined {
  const who = `the user manager of ${account.name} (uid ${account.uid})`;
  const { unit } = facts;
  if (unit !== undefined && unit.activeState !== 'active' && unit.activeState !== 'reloading') {
    return `${who} is not running: ${unit.name} is ${unit.activeState} (${unit.subState})`;
  }
  if (facts.bus === 'missing' && facts.privateSocket !== 'socket') {
    const running = unit === undefined ? '' : ` (${unit.name} is ${unit.activeState}, pid ${unit.mainPid})`;
    return `${who} has no way in${running}: no /run/user/${account.uid}/bus, and /run/user/${account.uid}/systemd/private is ${describe(facts.privateSocket)}`;
  }
  return undefined;
}

/** The facts in a few words, for a reason that needs them. */
export function describeFacts(facts: UserManagerFacts): string {
  const unit = facts.unit === undefined ? '' : `${facts.unit.name} ${facts.unit.activeState}, pid ${facts.unit.mainPid}; `;
  return `${unit}bus ${describe(facts.bus)}, private socket ${describe(facts.privateSocket)}`;
}

function describe(fact: SocketFact): string {
  return fact === 'socket' ? "a socket of the user's" : fact === 'link' ? 'a symbolic link' : fact.replace(/-/g, ' ');
}

function socketFact(path: string, uid: number): SocketFact {
  try {
    const info = lstatSync(path);
    if (info.isSymbolicLink()) return 'link';
    if (!info.isSocket()) return 'not-a-socket';
    return info.uid === uid ? 'socket' : 'not-the-users';
  } catch {
    return 'missing';
  }
}

async function runsAs(pid: number, uid: number): Promise<boolean> {
  return (await readIdentity(pid))?.uids.every((id) => id === uid) === true;
}
