import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Outcome } from '../execute/types.js';
import type { Plan, PlannedAction } from '../plan/types.js';
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
  type JournalPlan,
} from './journal-records.js';

/** The `detail` of an outcome that an earlier, interrupted run of the same switch already achieved. */
export const ALREADY_DONE = 'already done';

/** Whether an outcome stands for an action skipped because the journal says it was done. */
export function isAlreadyDone(outcome: Outcome): boolean {
  return outcome.detail === ALREADY_DONE && outcome.jobResult === 'not-run' && outcome.phase !== 'none';
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
  private unfinished: JournalPlan | undefined;
  private lastFinished: string | undefined;

  constructor(stateDir: string, readonly oldPath: string, readonly newPath: string) {
    this.key = switchKey(oldPath, newPath);
    this.dir = join(stateDir, SWITCHES_DIR, this.key);
    mkdirSync(this.dir, { recursive: true, mode: 0o755 });
    let open = false;
    for (const line of journalLines(readJsonLines(join(this.dir, JOURNAL_LINES_FILE)))) {
      if (line.type === 'begun') open = true;
      else if (line.type === 'finished') {
        open = false;
        this.lastFinished = line.at;
      }
      else if (line.type === 'outcome' && line.outcome.ok && line.outcome.phase !== 'none') this.done.set(line.key, asOutcome(line.outcome));
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
    const prior = this.done.get(actionKey(action));
    if (prior === undefined) return undefined;
    return {
      unit: action.unit ?? action.owner.name,
      owner: action.owner,
      action: action.action,
      phase: action.phase,
      reason: action.reason,
      detail: ALREADY_DONE,
      ok: true,
      jobResult: 'not-run',
      durationMs: 0,
      pids: action.pids,
    };
  };

  /** Appends an executed outcome (fsync'ed before the next action starts). */
  record(outcome: Outcome): void {
    if (outcome.dryRun || isAlreadyDone(outcome)) return;
    const key = outcomeKey(outcome);
    this.append({ type: 'outcome', at: new Date().toISOString(), key, outcome });
    if (outcome.ok && outcome.phase !== 'none') this.done.set(key, outcome);
  }

  /** Appends what the verify re-scan found for a unit (informational: never undoes "done"). */
  recordVerified(outcome: Outcome): void {
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
