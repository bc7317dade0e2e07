import type { ManagerProcess, SystemdManager, UserManagers, UserManagerState } from '../types/systemd.js';

export interface UserManagersOptions {
  /** The system manager: asked whether user@UID.service runs (and where), and its process (below). */
  system?: SystemdManager | undefined;
  /** The system manager's process: users' runtime dirs are reached where it sees them. */
  process?: ManagerProcess | undefined;
  /** Answer time for one call to a user's manager (default 25 s). */
  callTimeoutMs?: number | undefined;
}

/**
 * The users' managers of one run: each user's is reached (a child acting as the user) the first
 * time it is asked for, and every child ends with `close`. Root (uid 0) has no user manager here.
 */
export function createUserManagers(options: UserManagersOptions = {}): UserManagers {
  const opened = new Map<number, Promise<UserManagerState>>();
  const open = async (uid: number): Promise<UserManagerState> => {
    if (!Number.isInteger(uid) || uid <= 0) return { state: 'absent', uid, reason: `uid ${uid} has no user manager restartd acts on` };
    // Loaded when a user's manager is first asked for: a plan of system units alone needs neither (nor zod).
    const [{ lookupAccount }, { openUserManager }, { absenceOf, describeFacts, gatherUserManagerFacts }] = await Promise.all([
      import('./user-account.js'), import('./user-manager.js'), import('./user-manager-facts.js'),
    ]);
    const account = await lookupAccount(uid);
    if (account === undefined) return { state: 'absent', uid, reason: `uid ${uid} is no user in the passwd database` };
    // Absent or not is decided by facts (the system manager's word, the sockets), never by a child's error.
    const facts = await gatherUserManagerFacts(account, options);
    const absence = absenceOf(facts, account);
    if (absence !== undefined) return { state: 'absent', uid, name: account.name, reason: absence };
    return openUserManager({
      account,
      root: facts.root,
      ...(facts.hostPid === undefined ? {} : { managerHostPid: facts.hostPid }),
      process: options.system?.process ?? options.process,
      callTimeoutMs: options.callTimeoutMs ?? 25_000,
      facts: describeFacts(facts),
    });
  };
  return {
    get(uid) {
      let state = opened.get(uid);
      if (state === undefined) {
        state = open(uid);
        opened.set(uid, state);
      }
      return state;
    },
    close() {
      for (const state of opened.values()) void state.then((s) => (s.state === 'running' ? s.manager.close() : undefined));
      opened.clear();
    },
  };
}
