import { DEFAULT_AWARE_STATE_DIR, SYSTEM_AWARE_DIR, userAwareDir, userRuntimeUids } from './aware-dirs.js';
import { readIdentity } from './proc-identity.js';
import { readRegistrations } from './read-registrations.js';
import { readRegistrationState } from './registration-state.js';
import { judgeTarget } from './trust.js';
import type { RegistrationStatus } from '../types/aware.js';

export interface ListOptions {
  /** Where restartd keeps the last notification and answer per registration (default /run/restartd/aware-state). */
  stateDir?: string;
  procRoot?: string;
}

/**
 * Every registration in `dir` for `restartd status`: valid or why not (the file and the field or
 * check), whether its process still runs with the registered start time, and what restartd last told
 * it and heard back. Read-only; never throws.
 */
export async function listRegistrations(dir: string, options: ListOptions = {}): Promise<RegistrationStatus[]> {
  const stateDir = options.stateDir ?? DEFAULT_AWARE_STATE_DIR;
  const scan = await readRegistrations(dir);
  const listed: RegistrationStatus[] = [];
  for (const { file, registration: reg, fileUid } of scan.registrations) {
    const identity = await readIdentity(reg.pid, options.procRoot);
    const verdict = judgeTarget(reg, fileUid, identity);
    const state = await readRegistrationState(stateDir, file);
    listed.push({
      file,
      name: reg.name,
      pid: reg.pid,
      via: reg.notify.kind,
      valid: true,
      ...(verdict.trusted ? {} : { problem: `${verdict.reason}: ${verdict.detail}` }),
      alive: identity !== undefined && identity.startTime === reg.startTime,
      ...(state.lastNotification === undefined ? {} : { lastNotification: state.lastNotification }),
      ...(state.lastAnswer === undefined ? {} : { lastAnswer: state.lastAnswer }),
    });
  }
  for (const { file, reason } of scan.skipped) listed.push({ file, valid: false, problem: reason, alive: false });
  return listed.sort((a, b) => a.file.localeCompare(b.file));
}

/**
 * Every registration on the machine: the system dir, then each user's runtime dir found under
 * `runtimeBase` (default /run/user), or just `dirs` when given. For `restartd status`.
 */
export async function listAllRegistrations(options: ListOptions & { dirs?: string[]; runtimeBase?: string } = {}): Promise<RegistrationStatus[]> {
  const base = options.runtimeBase ?? '/run/user';
  const dirs = options.dirs ?? [SYSTEM_AWARE_DIR, ...userRuntimeUids(base).map((uid) => userAwareDir(uid, base))];
  const listed: RegistrationStatus[] = [];
  for (const dir of dirs) listed.push(...(await listRegistrations(dir, options)));
  return listed;
}
