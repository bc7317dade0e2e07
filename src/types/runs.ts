import type { Outcome } from './outcome.js';
import type { RollbackIntent } from './rollback.js';

/** One unit's result in a run, as `restartd status` shows it. */
export interface RunUnitResult {
  unit: string;
  action: Outcome['action'];
  at: string;
  /** For a failure: its code and cause. */
  code?: string;
  cause?: string;
}

/** A switch's rollback to its old generation, as the journal has it (see src/run/rollback.ts). */
export interface RunRollback extends RollbackIntent {
  startedAt: string;
  /** `unfinished`: interrupted; the next run of the switch finishes it. */
  state: 'finished' | 'unfinished';
  /** The link points at the old generation again (or the rollback command succeeded). */
  flipped: boolean;
  finishedAt?: string;
  /** Finished: every unit runs the old generation again (verified); not ok: ROLLBACK_FAILED, `cause` says why. */
  ok?: boolean;
  cause?: string;
}

/** What the journal says about one switch (old → new): every attempt of it taken together. */
export interface RunSummary {
  key: string;
  old: string;
  new: string;
  /** When the latest attempt began, and when it finished (absent: interrupted, or running now). */
  startedAt: string;
  finishedAt?: string;
  state: 'finished' | 'unfinished';
  /** Attempts: more than 1 when an interrupted run was resumed. */
  attempts: number;
  /** Restarts onto the new generation failed and the run rolled back to the old one. */
  rolledBack?: RunRollback;
  /** Units restarted, reloaded, stopped, started (ok outcomes with a job). */
  done: RunUnitResult[];
  /** Units whose latest outcome failed (not ok), with code and cause; verify's STILL_STALE included. */
  failed: RunUnitResult[];
  /** Owners skipped by policy (and reboot hints), and processes left running because nobody registered to be told. */
  skipped: RunUnitResult[];
}
