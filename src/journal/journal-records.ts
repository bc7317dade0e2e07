import { createHash } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import * as z from 'zod';
import type { Owner } from '../types/owner.js';
import type { Outcome } from '../types/outcome.js';
import type { Plan, PlannedAction } from '../types/plan.js';
import { SWITCHES_DIR } from './state-dir.js';

/** What the journal of one switch holds on disk: `plan.json` and `journal.jsonl` in `switches/KEY/`. */
export const JOURNAL_PLAN_FILE = 'plan.json';
export const JOURNAL_LINES_FILE = 'journal.jsonl';

export { SWITCHES_DIR };

/** An outcome as restartd wrote it (the fields the journal relies on are checked, the rest kept). */
const OutcomeRecord = z.looseObject({ unit: z.string(), action: z.string(), phase: z.string(), ok: z.boolean() });

/** A job written down before it was submitted (JobSubmission). */
const SubmissionRecord = z.object({
  unit: z.string(),
  method: z.enum(['RestartUnit', 'ReloadUnit', 'StopUnit', 'StartUnit']),
  invocationId: z.string(),
  mainPid: z.number(),
  execMainStartUs: z.number(),
  stateChangeUs: z.number(),
  at: z.string(),
  jobPath: z.string().optional(),
});

/** One line of `journal.jsonl`. */
export const JournalLineSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('begun'), at: z.string(), pid: z.number(), resumed: z.boolean() }),
  z.object({ type: z.literal('outcome'), at: z.string(), key: z.string(), outcome: OutcomeRecord }),
  z.object({ type: z.literal('verified'), at: z.string(), outcome: OutcomeRecord }),
  // Before a job is submitted, and once systemd answered with its path.
  z.object({ type: z.literal('submitting'), at: z.string(), key: z.string(), submission: SubmissionRecord }),
  z.object({ type: z.literal('submitted'), at: z.string(), key: z.string(), submission: SubmissionRecord }),
  z.object({ type: z.literal('finished'), at: z.string(), ok: z.number(), failed: z.number() }),
  // A user told about what stays running (once per switch: a re-run or a repeated hook does not tell again).
  z.object({
    type: z.literal('notified'),
    at: z.string(),
    uid: z.number().int().nonnegative(),
    name: z.string().max(256).optional(),
    channels: z.array(z.enum(['desktop', 'terminal'])).max(2),
    text: z.string().max(8192),
    pids: z.array(z.number().int()).max(100_000),
  }),
  // A rollback's steps: `begun` before the link is flipped (with the switch's outcomes and the key
  // of the rollback's own journal), `flipped` after, `finished` once its restarts are verified.
  z.object({
    type: z.literal('rollback'),
    at: z.string(),
    step: z.enum(['begun', 'flipped', 'finished']),
    intent: z.object({ link: z.string().optional(), command: z.array(z.string()).optional(), from: z.string(), to: z.string(), reason: z.string(), units: z.array(z.string()), userUnits: z.array(z.object({ uid: z.number().int(), unit: z.string() })).optional() }),
    key: z.string().optional(),
    outcomes: z.array(OutcomeRecord).optional(),
    // finished: the restarts onto the old generation, after verify (a re-run reports them).
    rollbackOutcomes: z.array(OutcomeRecord).optional(),
    ok: z.boolean().optional(),
    cause: z.string().optional(),
  }),
]);
export type JournalLine = z.infer<typeof JournalLineSchema>;

/** `plan.json`: the plan of the latest attempt, written before acting. */
export const JournalPlanSchema = z.object({
  version: z.literal(1),
  key: z.string(),
  old: z.string(),
  new: z.string(),
  createdAt: z.string(),
  plan: z.looseObject({ daemonReload: z.boolean(), actions: z.array(z.looseObject({ action: z.string(), phase: z.string(), reason: z.string(), pids: z.array(z.number()), owner: z.looseObject({ kind: z.string(), name: z.string() }) })) }),
});
export type JournalPlan = Omit<z.infer<typeof JournalPlanSchema>, 'plan'> & { plan: Plan };

/** Parses the lines that are journal records; others (another version's, garbage) are dropped. */
export function journalLines(values: readonly unknown[]): JournalLine[] {
  return values.flatMap((value) => {
    const parsed = JournalLineSchema.safeParse(value);
    return parsed.success ? [parsed.data] : [];
  });
}

export function asOutcome(record: z.infer<typeof OutcomeRecord>): Outcome {
  // Written by restartd itself from an Outcome; only the fields above were checked.
  return record as unknown as Outcome;
}

/** Same key for the same switch however its paths are spelled (links resolved). */
export function switchKey(oldPath: string, newPath: string): string {
  const real = (path: string): string => {
    try {
      return realpathSync(path);
    } catch {
      return resolve(path);
    }
  };
  return createHash('sha256').update(`${real(oldPath)}\0${real(newPath)}`).digest('hex').slice(0, 32);
}

/** The identity of an action across runs of the same switch (PIDs differ, the unit does not). */
export function actionKey(action: PlannedAction): string {
  return `${action.phase}|${action.action}|${ownerKey(action.owner)}|${action.unit ?? action.owner.name}`;
}

export function outcomeKey(outcome: Outcome): string {
  return `${outcome.phase}|${outcome.action}|${ownerKey(outcome.owner)}|${outcome.unit}`;
}

// Two users may run a user unit of the same name: theirs are told apart by uid.
function ownerKey(owner: Owner): string {
  return owner.kind === 'user-unit' && owner.uid !== undefined ? `${owner.kind}:${owner.uid}/${owner.name}` : `${owner.kind}:${owner.name}`;
}
