import { ProcReader } from '../scan/proc-reader.js';
import { completeImage } from '../scan/scan-processes.js';
import { EventEmitter } from 'eventemitter3';
import { detectStale } from '../detect.js';
import type { ChangeSet } from '../types/generation.js';
import type { StaleProcess } from '../types/stale.js';
import { systemdCgroupPath } from '../owner/owner-of.js';
import type { ProcessImage } from '../types/process.js';
import { scopeToManager } from '../systemd/scope-to-manager.js';
import type { ManagerProcess } from '../types/systemd.js';
import { isAlreadyDone } from './run-action.js';
import { unitKeyOf } from '../plan/unit-key.js';
import type { ExecuteEvents, Outcome, StillStaleProcess } from '../types/outcome.js';

export interface VerifyOptions {
  /** The switch's ChangeSet: the same one the plan was made from. */
  changeSet?: ChangeSet | undefined;
  /** The manager's process, to keep to its cgroup tree (see scopeToManager). */
  manager: ManagerProcess | undefined;
  procRoot?: string;
  scratchDirs?: readonly string[];
  /** The run's limits (config limits.compareMaxBytes, limits.heldFilesPerProcess): verify judges files as detection did. */
  compareMaxBytes?: number | undefined;
  maxHeldFiles?: number | undefined;
  /** How long to wait for new processes systemd forked but has not exec'd yet (default 2 s). */
  settleMs?: number;
}

/**
 * Outcomes whose unit should now run new processes: a done restart, start or reload that stayed up (an update-aware
 * fallback's too), and one an interrupted run of the same switch did (resuming reports it done, so
 * it is verified like the rest).
 */
function needsVerify(outcome: Outcome): boolean {
  // A unit that did not stay up has no new processes to judge.
  if (outcome.dryRun || outcome.code === 'UNIT_FAILED') return false;
  const doneBefore = isAlreadyDone(outcome) && outcome.action !== 'notify';
  if (outcome.jobResult !== 'done' && !doneBefore) return false;
  return outcome.action === 'restart' || outcome.action === 'reload' || outcome.action === 'notify' || (outcome.action === 'stop-start' && outcome.phase === 'start');
}

/**
 * Re-scans after the jobs: the processes now in each restarted (or reloaded) unit are matched against
 * the same ChangeSet. A unit whose processes still hold old files (its ExecStart points into the old
 * generation, say; or a reload that kept the old code) gets `stillStale` and is not ok (STILL_STALE).
 * Processes are found by their cgroup, not by MainPID: PIDs may be another namespace's, and a unit
 * has workers too.
 */
export async function verifyOutcomes(
  outcomes: readonly Outcome[],
  options: VerifyOptions,
  events: EventEmitter<ExecuteEvents> = new EventEmitter<ExecuteEvents>(),
): Promise<Outcome[]> {
  const verified = outcomes.filter(needsVerify);
  const targets = new Set(verified.map((o) => o.unit));
  if (targets.size === 0) return [...outcomes];
  const keys = new Set(verified.map((o) => unitKeyOf(o.owner, o.unit)));
  events.emit('verify:start', [...targets].sort());
  const stale = await scanSettled(targets, options);
  const byUnit = new Map<string, StillStaleProcess[]>();
  for (const process of scopeToManager(stale, options.manager)) {
    const key = unitKeyOf(process.owner, process.owner.name);
    if (!keys.has(key)) continue;
    const list = byUnit.get(key) ?? [];
    list.push({ pid: process.pid, files: process.files.map((f) => ({ path: f.path, kind: f.kind })) });
    byUnit.set(key, list);
  }
  return outcomes.map((outcome) => {
    if (!needsVerify(outcome)) return outcome;
    const still = byUnit.get(unitKeyOf(outcome.owner, outcome.unit));
    const verified: Outcome = still === undefined ? outcome : { ...outcome, ok: false, stillStale: still, code: 'STILL_STALE', cause: describeStill(outcome, still) };
    events.emit('verify:done', verified);
    return verified;
  });
}

async function scanSettled(targets: ReadonlySet<string>, options: VerifyOptions): Promise<StaleProcess[]> {
  const deadline = performance.now() + (options.settleMs ?? 2000);
  for (;;) {
    const detection = await detectStale({
      changeSet: options.changeSet,
      ...(options.procRoot === undefined ? {} : { procRoot: options.procRoot }),
      ...(options.scratchDirs === undefined ? {} : { scratchDirs: options.scratchDirs }),
      compareMaxBytes: options.compareMaxBytes,
      maxHeldFiles: options.maxHeldFiles,
    });
    // The hot scan reads cgroups of stale processes only: read them here for the few mid-fork ones.
    const reader = new ProcReader(options.procRoot ?? '/proc', options.maxHeldFiles);
    const forking = detection.scan.processes.some(
      (image) => isBetweenForkAndExec(image) && completeImage(reader, image, [], 'owner') && inTargets(image, targets),
    );
    if (!forking || performance.now() > deadline) return detection.stale;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

// systemd names a child it forked "(name)" until it execs the unit's command; scanned then, it
// would hold systemd's own files and look clean.
function isBetweenForkAndExec(image: ProcessImage): boolean {
  return image.comm.startsWith('(') && image.comm.endsWith(')');
}

function inTargets(image: ProcessImage, targets: ReadonlySet<string>): boolean {
  const segments = (systemdCgroupPath(image.cgroup) ?? '').split('/');
  return segments.some((segment) => targets.has(segment));
}

function describeStill(outcome: Outcome, still: readonly StillStaleProcess[]): string {
  const files = [...new Set(still.flatMap((p) => p.files.map((f) => `${f.path} (${f.kind})`)))];
  const shown = files.slice(0, 3).join(', ') + (files.length > 3 ? ` and ${files.length - 3} more` : '');
  const verb = outcome.action === 'reload' ? 'reloaded' : outcome.action === 'restart' || outcome.action === 'notify' ? 'restarted' : 'started';
  return `${verb}, but ${still.length} process${still.length === 1 ? '' : 'es'} still hold${still.length === 1 ? 's' : ''} old files: ${shown}`;
}
