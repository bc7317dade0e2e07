import { lstatSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { ALREADY_DONE, isAlreadyDone, planned, type JobJournal, type JobSubmission, type Outcome } from '../types/outcome.js';
import type { Plan, PlannedAction } from '../types/plan.js';
import { appendJsonLine, readJsonFile, readJsonLines, writeFileDurably } from './durable-file.js';
import { checkTrusted, checkTrustedTree, QUARANTINED, unsafeState } from './state-trust.js';
import {
  actionKey,
  asOutcome,
  JOURNAL_LINES_FILE,
  JOURNAL_PLAN_FILE,
  journalLines,
  JournalPlanSchema,
  outcomeKey,
  SWITCHES_DIR,
  switchKey,
  type JournalLine,
  type JournalPlan,
} from './journal-records.js';
import type { RollbackIntent } from '../types/rollback.js';
import type { UserNotice } from '../types/aware.js';

/** A rollback begun and not finished, as the journal has it. */
export interface PendingRollback {
  intent: RollbackIntent;
  /** The key of the rollback's own journal (its restarts onto the old generation). */
  key: string;
  /** The switch's outcomes that called for it. */
  outcomes: Outcome[];
  flipped: boolean;
}

/** A rollback an earlier run of this switch finished, as the journal has it: a re-run reports it, and does nothing again. */
export interface FinishedRollback {
  intent: RollbackIntent;
  ok: boolean;
  cause?: string | undefined;
  /** The switch's outcomes that called for it. */
  outcomes: Outcome[];
  /** The restarts onto the old generation, after verify. */
  rollbackOutcomes: Outcome[];
  /** When it finished (ISO). */
  at: string;
  /** The switch's plan, as the journal kept it. */
  plan: Plan | undefined;
}

export { ALREADY_DONE, isAlreadyDone };

/** The `detail` of an outcome not repeated although an earlier run left its unit still stale. */
export const STILL_STALE_BEFORE = 'still stale after an earlier run';

/** An unfinished attempt whose plan is not restartd's is never resumed: moved aside, and said so. */
function quarantine(stateDir: string, dir: string, rel: string, why: string): never {
  const aside = `${dir}${QUARANTINED}${Date.now()}`;
  renameSync(dir, aside);
  throw unsafeState(stateDir, `${rel}/${JOURNAL_PLAN_FILE}`, `of an unfinished run is not a plan restartd wrote (${why}): moved to ${aside}, not resumed`);
}

/**
 * The journal of one switch (old → new) in the state dir. Call under the state lock. The plan is
 * written (write-temp, fsync, rename) before acting; each outcome is appended as a JSON line and
 * fsync'ed. An action recorded ok is never run again for this switch; an unfinished attempt's plan
 * is carried out again (its done actions skipped) instead of a new one.
 */
export class SwitchJournal {
  readonly key: string;
  readonly dir: string;
  private readonly done = new Map<string, Outcome>();
  /** Done actions whose unit the verify re-scan found still holding old files, by action key. */
  private readonly stillStale = new Map<string, Outcome>();
  /** Jobs submitted (or about to be) whose outcome was never written, by action key. */
  private readonly submissions = new Map<string, JobSubmission>();
  private unfinished: JournalPlan | undefined;
  private lastFinished: string | undefined;
  private rollback: PendingRollback | undefined;
  private rolledBack: Omit<FinishedRollback, 'plan'> | undefined;
  private savedPlan: Plan | undefined;
  /** Users told (uids) for this switch, by any of its runs. */
  private readonly told = new Set<number>();

  /**
   * `retry`: actions done by an earlier run whose unit verify found still stale run again (after
   * the cause was fixed: the unit's ExecStart no longer points into the old generation, say).
   * Without it they are reported failed, not repeated: a unit pinned to old files must not be
   * restarted on every call of a hook (needrestart's restart storms).
   */
  constructor(stateDir: string, readonly oldPath: string, readonly newPath: string, private readonly retry = false, key?: string) {
    // A run on the live scan has no generations to key it: its caller names it (see src/run/live-journal.ts).
    this.key = key ?? switchKey(oldPath, newPath);
    this.dir = join(stateDir, SWITCHES_DIR, this.key);
    mkdirSync(this.dir, { recursive: true, mode: 0o755 });
    const rel = `${SWITCHES_DIR}/${this.key}`;
    checkTrusted(stateDir, rel, lstatSync(this.dir), 'dir');
    checkTrustedTree(stateDir, rel);
    let open = false;
    const lost = new Set<string>();
    for (const line of journalLines(readJsonLines(join(this.dir, JOURNAL_LINES_FILE)))) {
      if (line.type === 'begun') {
        open = true;
        // A new attempt (--retry after a rollback): the rollback before it is history.
        if (!line.resumed) this.rolledBack = undefined;
      }
      else if (line.type === 'finished') {
        open = false;
        this.lastFinished = line.at;
        // A job lost with the bus outlives its attempt: the next plan's run of it judges it from the facts.
        for (const key of this.submissions.keys()) if (!lost.has(key)) this.submissions.delete(key);
      } else if (line.type === 'submitting' || line.type === 'submitted') {
        const { jobPath, ...rest } = line.submission;
        this.submissions.set(line.key, { ...rest, ...(jobPath === undefined ? {} : { jobPath }) });
      }
      else if (line.type === 'rollback') this.readRollback(line);
      else if (line.type === 'notified') this.told.add(line.uid);
      // A job lost with the bus stays submitted: the next run judges it from the facts.
      if (line.type === 'outcome' && line.outcome['code'] === 'BUS_LOST') lost.add(line.key);
      else if (line.type === 'outcome') {
        lost.delete(line.key);
        this.submissions.delete(line.key);
      }
      if (line.type === 'outcome' && line.outcome.ok && line.outcome.phase !== 'none') {
        this.done.set(line.key, asOutcome(line.outcome));
        this.stillStale.delete(line.key);
      } else if (line.type === 'verified') {
        const verified = asOutcome(line.outcome);
        const key = outcomeKey(verified);
        if (verified.code === 'STILL_STALE') this.stillStale.set(key, verified);
        else this.stillStale.delete(key);
      }
    }
    const saved = JournalPlanSchema.safeParse(readJsonFile(join(this.dir, JOURNAL_PLAN_FILE)));
    if (saved.success) this.savedPlan = (saved.data as unknown as JournalPlan).plan;
    // Written by restartd itself from a Plan; the fields resuming relies on were checked.
    if (open && saved.success) this.unfinished = saved.data as unknown as JournalPlan;
    else if (open) quarantine(stateDir, this.dir, rel, saved.error?.issues[0]?.message ?? 'missing');
  }

  /** Whether an earlier run of this switch was interrupted: its plan is the one `begin` returns. */
  get resuming(): boolean {
    return this.unfinished !== undefined;
  }

  /** When an attempt of this switch last finished, unless one is unfinished now. */
  get finishedAt(): string | undefined {
    return this.unfinished === undefined ? this.lastFinished : undefined;
  }

  /** A rollback an interrupted run began and did not finish: the re-run finishes it, not the switch. */
  get pendingRollback(): PendingRollback | undefined {
    return this.unfinished === undefined ? undefined : this.rollback;
  }

  /**
   * The rollback the last attempt of this switch finished (none is unfinished): a re-run reports it
   * instead of switching forward again (`retry` starts the switch afresh).
   */
  get finishedRollback(): FinishedRollback | undefined {
    if (this.unfinished !== undefined || this.rolledBack === undefined || this.retry) return undefined;
    return { ...this.rolledBack, plan: this.savedPlan };
  }

  /** The interrupted attempt's plan (see `resuming`). */
  get unfinishedPlan(): Plan | undefined {
    return this.unfinished?.plan;
  }

  /** Appends a step of this switch's rollback (fsync'ed before the next step). */
  recordRollback(
    step: 'begun' | 'flipped' | 'finished',
    intent: RollbackIntent,
    extra: { key?: string; outcomes?: readonly Outcome[]; rollbackOutcomes?: readonly Outcome[]; ok?: boolean; cause?: string } = {},
  ): void {
    const { link, command, from, to, reason, units, userUnits } = intent;
    this.append({ type: 'rollback', at: new Date().toISOString(), step, intent: { link, command, from, to, reason, units, userUnits }, ...extra });
  }

  private readRollback(line: Extract<JournalLine, { type: 'rollback' }>): void {
    if (line.step === 'begun') {
      this.rollback = { intent: line.intent, key: line.key ?? `${this.key}-rollback`, outcomes: (line.outcomes ?? []).map(asOutcome), flipped: false };
      this.rolledBack = undefined;
    } else if (line.step === 'flipped' && this.rollback !== undefined) this.rollback.flipped = true;
    else if (line.step === 'finished') {
      this.rolledBack = {
        intent: line.intent,
        ok: line.ok === true,
        cause: line.cause,
        outcomes: this.rollback?.outcomes ?? [],
        rollbackOutcomes: (line.rollbackOutcomes ?? []).map(asOutcome),
        at: line.at,
      };
      this.rollback = undefined;
      // Rolled back: what this switch restarted runs the old generation again, so none of it is
      // "done" for a later attempt of the same switch.
      this.done.clear();
      this.stillStale.clear();
    }
  }

  /** Writes the plan down before anything is done; returns the plan to carry out. */
  begin(built: Plan): Plan {
    const resumed = this.unfinished;
    if (resumed === undefined) {
      const record: JournalPlan = { version: 1, key: this.key, old: this.oldPath, new: this.newPath, createdAt: new Date().toISOString(), plan: built };
      writeFileDurably(join(this.dir, JOURNAL_PLAN_FILE), `${JSON.stringify(record, null, 2)}\n`);
    }
    this.append({ type: 'begun', at: new Date().toISOString(), pid: process.pid, resumed: resumed !== undefined });
    return resumed?.plan ?? built;
  }

  /** The outcome to report for an action already done by an earlier run, or undefined to run it. */
  readonly skipDone = (action: PlannedAction): Outcome | undefined => {
    const key = actionKey(action);
    const prior = this.done.get(key);
    if (prior === undefined) return undefined;
    const still = this.stillStale.get(key);
    if (still !== undefined) {
      if (this.retry) return undefined;
      return {
        ...planned(action),
        detail: STILL_STALE_BEFORE,
        ok: false,
        jobResult: 'not-run',
        durationMs: 0,
        code: 'STILL_STALE',
        cause: `an earlier run of this switch did it, and its processes still held old files (${still.cause ?? 'see the journal'}); not repeated: fix the cause, then run again with --retry`,
        ...(still.stillStale === undefined ? {} : { stillStale: still.stillStale }),
      };
    }
    return { ...planned(action), detail: ALREADY_DONE, ok: true, jobResult: 'not-run', durationMs: 0 };
  };

  /** Jobs written down before each submission (fsync'ed before the call), and an interrupted run's. */
  readonly jobs: JobJournal = {
    submitting: (action, submission) => this.append({ type: 'submitting', at: new Date().toISOString(), key: actionKey(action), submission }),
    submitted: (action, submission) => this.append({ type: 'submitted', at: new Date().toISOString(), key: actionKey(action), submission }),
    interrupted: (action) => this.submissions.get(actionKey(action)),
  };

  /** Whether a run of this switch told the user already. */
  toldUser(uid: number): boolean {
    return this.told.has(uid);
  }

  /** Appends that a user was told (fsync'ed): no later run of this switch tells them again. */
  recordNotified(notice: UserNotice): void {
    const { uid, name, channels, text, pids } = notice;
    this.append({ type: 'notified', at: new Date().toISOString(), uid, ...(name === undefined ? {} : { name }), channels, text: text.slice(0, 8192), pids: pids.slice(0, 100_000) });
    this.told.add(uid);
  }

  /** Appends an executed outcome (fsync'ed before the next action starts). */
  record(outcome: Outcome): void {
    if (outcome.dryRun || isAlreadyDone(outcome)) return;
    const key = outcomeKey(outcome);
    if (outcome.code !== 'BUS_LOST') this.submissions.delete(key);
    this.append({ type: 'outcome', at: new Date().toISOString(), key, outcome });
    if (outcome.ok && outcome.phase !== 'none') this.done.set(key, outcome);
  }

  /** Appends what the verify re-scan found for a unit: still stale, the action is not "done" for a later run (see skipDone). */
  recordVerified(outcome: Outcome): void {
    if (outcome.detail === STILL_STALE_BEFORE) return;
    this.append({ type: 'verified', at: new Date().toISOString(), outcome });
  }

  /** Marks the attempt finished: a later run of this switch plans afresh. */
  finish(outcomes: readonly Outcome[]): void {
    const ok = outcomes.filter((o) => o.ok && o.phase !== 'none').length;
    const failed = outcomes.filter((o) => !o.ok).length;
    this.append({ type: 'finished', at: new Date().toISOString(), ok, failed });
    this.unfinished = undefined;
  }

  private append(line: object): void {
    appendJsonLine(join(this.dir, JOURNAL_LINES_FILE), line);
  }
}
