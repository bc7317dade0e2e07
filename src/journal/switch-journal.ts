import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ALREADY_DONE, isAlreadyDone, planned, type Outcome } from '../types/outcome.js';
import type { Plan, PlannedAction } from '../types/plan.js';
import { appendJsonLine, readJsonFile, readJsonLines, writeFileDurably } from './durable-file.js';
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

/** A rollback begun and not finished, as the journal has it. */
export interface PendingRollback {
  intent: RollbackIntent;
  /** The key of the rollback's own journal (its restarts onto the old generation). */
  key: string;
  /** The switch's outcomes that called for it. */
  outcomes: Outcome[];
  flipped: boolean;
}

export { ALREADY_DONE, isAlreadyDone };

/** The `detail` of an outcome not repeated although an earlier run left its unit still stale. */
export const STILL_STALE_BEFORE = 'still stale after an earlier run';

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
  private unfinished: JournalPlan | undefined;
  private lastFinished: string | undefined;
  private rollback: PendingRollback | undefined;

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
    let open = false;
    for (const line of journalLines(readJsonLines(join(this.dir, JOURNAL_LINES_FILE)))) {
      if (line.type === 'begun') open = true;
      else if (line.type === 'finished') {
        open = false;
        this.lastFinished = line.at;
      }
      else if (line.type === 'rollback') this.readRollback(line);
      else if (line.type === 'outcome' && line.outcome.ok && line.outcome.phase !== 'none') {
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
    // Written by restartd itself from a Plan; the fields resuming relies on were checked.
    if (open && saved.success) this.unfinished = saved.data as unknown as JournalPlan;
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

  /** The interrupted attempt's plan (see `resuming`). */
  get unfinishedPlan(): Plan | undefined {
    return this.unfinished?.plan;
  }

  /** Appends a step of this switch's rollback (fsync'ed before the next step). */
  recordRollback(step: 'begun' | 'flipped' | 'finished', intent: RollbackIntent, extra: { key?: string; outcomes?: readonly Outcome[]; ok?: boolean; cause?: string } = {}): void {
    const { link, from, to, reason, units } = intent;
    this.append({ type: 'rollback', at: new Date().toISOString(), step, intent: { link, from, to, reason, units }, ...extra });
  }

  private readRollback(line: Extract<JournalLine, { type: 'rollback' }>): void {
    if (line.step === 'begun') this.rollback = { intent: line.intent, key: line.key ?? `${this.key}-rollback`, outcomes: (line.outcomes ?? []).map(asOutcome), flipped: false };
    else if (line.step === 'flipped' && this.rollback !== undefined) this.rollback.flipped = true;
    else if (line.step === 'finished') {
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

  /** Appends an executed outcome (fsync'ed before the next action starts). */
  record(outcome: Outcome): void {
    if (outcome.dryRun || isAlreadyDone(outcome)) return;
    const key = outcomeKey(outcome);
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
