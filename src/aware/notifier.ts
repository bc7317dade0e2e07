import { EventEmitter } from 'eventemitter3';
import { planned, type Notifier, type Outcome } from '../types/outcome.js';
import type { StaleProcess } from '../types/stale.js';
import type { PlannedAction } from '../types/plan.js';
import { awareDirsFor, DEFAULT_AWARE_STATE_DIR } from './aware-dirs.js';
import { readRegistrations } from './read-registrations.js';
import { writeRegistrationState } from './registration-state.js';
import { tellProcess } from './tell-process.js';
import type { AwareEmitter, AwareEvents, LoadedRegistration, NotifyResult } from '../types/aware.js';

export type { Notifier };

export interface NotifierOptions {
  /** The stale processes of the run (the notify actions' pids are looked up here). */
  stale: readonly StaleProcess[];
  oldGeneration: string | null;
  newGeneration: string | null;
  /** Registration dirs (default: the system dir and the runtime dir of each stale process's user). */
  dirs?: string[];
  /** Where to keep each registration's last notification and answer (default /run/restartd/aware-state). */
  stateDir?: string;
  /** The skipped registration files were already reported (by findUpdateAware for the plan). */
  skippedReported?: boolean;
  procRoot?: string;
  /** A registration's ackTimeoutMs is cut to this (limits.ackTimeoutMaxMs, default 30 s). */
  maxAckTimeoutMs?: number | undefined;
}

/**
 * The executor's notify phase: reads the registration dirs once (skipped files are `aware:skipped`
 * events), then for each notify action tells every registered process (signal or socket, with the
 * checks of tellProcess) and folds the results into one Outcome: ok when every registered process
 * handled, ignored or was signalled and none was left unregistered; `RESTART_NEEDED` when a fallback
 * says the owner must be restarted (nothing is killed); `NOTIFY_FAILED` when telling failed with
 * fallback none; `NOTIFY_UNAVAILABLE` for processes without a registration.
 */
export function createNotifier(options: NotifierOptions, events: AwareEmitter = new EventEmitter<AwareEvents>()): Notifier {
  const byPid = new Map(options.stale.map((p) => [p.pid, p]));
  let index: Promise<Map<number, LoadedRegistration[]>> | undefined;
  const stateDir = options.stateDir ?? DEFAULT_AWARE_STATE_DIR;

  return async (action) => {
    // Read again right before telling (a registration may have changed since the plan); skipped files
    // are reported once per run: not again when the plan's findUpdateAware already did.
    index ??= indexRegistrations(options.dirs ?? awareDirsFor(options.stale.map((p) => p.uid)), options.skippedReported ? () => {} : (file, reason) => events.emit('aware:skipped', file, reason));
    const registrations = await index;
    const told: Promise<NotifyResult>[] = [];
    const unregistered: number[] = [];
    for (const pid of action.pids) {
      const proc = byPid.get(pid);
      const loaded = registrations.get(pid)?.find((r) => proc !== undefined && r.registration.startTime === proc.startTime);
      if (proc === undefined || loaded === undefined) {
        unregistered.push(pid);
        continue;
      }
      const files = proc.files.map((f) => f.path);
      const message = { type: 'update' as const, oldGeneration: options.oldGeneration, newGeneration: options.newGeneration, files };
      told.push(
        tellProcess(loaded, { message, events, maxAckTimeoutMs: options.maxAckTimeoutMs, ...(options.procRoot === undefined ? {} : { procRoot: options.procRoot }) }).then(async (result) => {
          const at = new Date().toISOString();
          await writeRegistrationState(stateDir, {
            file: loaded.file,
            lastNotification: { at, oldGeneration: message.oldGeneration, newGeneration: message.newGeneration, files: files.length },
            lastAnswer: { at, result: result.result, ...(result.reason === undefined ? {} : { reason: result.reason }) },
          });
          return result;
        }),
      );
    }
    if (told.length === 0) return undefined;
    const started = performance.now();
    const results = await Promise.all(told);
    return foldResults(action, results, unregistered, Math.round((performance.now() - started) * 10) / 10);
  };
}

/** The registrations of `dirs` that passed the file checks and the schema, by pid; skipped files go to `onSkipped`. */
export async function indexRegistrations(dirs: readonly string[], onSkipped: (file: string, reason: string) => void): Promise<Map<number, LoadedRegistration[]>> {
  const index = new Map<number, LoadedRegistration[]>();
  for (const dir of dirs) {
    const scan = await readRegistrations(dir);
    for (const { file, reason } of scan.skipped) onSkipped(file, reason);
    for (const loaded of scan.registrations) {
      const list = index.get(loaded.registration.pid) ?? [];
      list.push(loaded);
      index.set(loaded.registration.pid, list);
    }
  }
  return index;
}

/** One outcome from the results of a notify action's processes. Pure. */
export function foldResults(action: PlannedAction, results: NotifyResult[], unregistered: number[], durationMs: number): Outcome {
  const base: Outcome = { ...planned(action), ok: true, jobResult: 'not-run', durationMs, notified: results };
  const who = (r: NotifyResult): string => `${r.name} (pid ${r.pid})`;
  const restart = results.filter((r) => r.restartNeeded);
  if (restart.length > 0) {
    const reasons = restart.map((r) => `${who(r)}: ${r.reason ?? r.result}`).join('; ');
    return { ...base, ok: false, code: 'RESTART_NEEDED', cause: `${action.unit ?? action.owner.name} must be restarted: ${reasons}` };
  }
  // A process that is gone or was replaced holds nothing stale any more: not a failure.
  const failed = results.filter((r) => r.result === 'failed' || r.result === 'timeout' || (r.result === 'rejected' && !/^(process-gone|pid-reused)/.test(r.reason ?? '')));
  if (failed.length > 0) {
    return { ...base, ok: false, code: 'NOTIFY_FAILED', cause: failed.map((r) => `${who(r)}: ${r.reason ?? r.result}`).join('; ') };
  }
  if (unregistered.length > 0) {
    return { ...base, ok: false, code: 'NOTIFY_UNAVAILABLE', cause: `pid ${unregistered.join(', ')} did not register as update-aware: left running` };
  }
  return base;
}
