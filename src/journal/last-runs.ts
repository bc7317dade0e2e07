import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { RestartdError, errnoCode } from '../errors.js';
import type { Outcome } from '../types/outcome.js';
import type { RunRollback, RunSummary, RunUnitResult } from '../types/runs.js';
import { readJsonFile, readJsonLines } from './durable-file.js';
import { QUARANTINED } from './state-trust.js';
import { asOutcome, JOURNAL_LINES_FILE, JOURNAL_PLAN_FILE, journalLines, JournalPlanSchema, SWITCHES_DIR, type JournalLine } from './journal-records.js';

export type { RunSummary, RunUnitResult };

/**
 * The `n` most recent runs journaled in `stateDir`, newest first: what was restarted, what failed,
 * when. An unreadable or foreign entry is left out; a missing state dir gives [].
 */
export function lastRuns(stateDir: string, n: number): RunSummary[] {
  const runs: RunSummary[] = [];
  for (const dir of journalsByRecency(stateDir)) {
    if (runs.length >= n) break;
    const run = summarizeOrSkip(dir);
    if (run !== undefined) runs.push(run);
  }
  return runs;
}

/** The journals' dirs in the state dir, the last written first (quarantined ones left out); none without a state dir. */
export function journalsByRecency(stateDir: string): string[] {
  const root = join(stateDir, SWITCHES_DIR);
  let keys: string[];
  try {
    keys = readdirSync(root);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return [];
    throw error;
  }
  return keys
    .filter((key) => !key.includes(QUARANTINED))
    .map((key) => ({ dir: join(root, key), mtime: mtimeOf(join(root, key, JOURNAL_LINES_FILE)) }))
    .filter((entry): entry is { dir: string; mtime: number } => entry.mtime !== undefined)
    .sort((a, b) => b.mtime - a.mtime)
    .map((entry) => entry.dir);
}

function mtimeOf(path: string): number | undefined {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

/** A journal that is not a file (a dir at plan.json, a link): left out here; a switch run refuses it, named. */
function summarizeOrSkip(dir: string): RunSummary | undefined {
  try {
    return summarize(dir);
  } catch (error) {
    if (error instanceof RestartdError) return undefined;
    throw error;
  }
}

function summarize(dir: string): RunSummary | undefined {
  const saved = JournalPlanSchema.safeParse(readJsonFile(join(dir, JOURNAL_PLAN_FILE)));
  if (!saved.success) return undefined;
  const lines = journalLines(readJsonLines(join(dir, JOURNAL_LINES_FILE)));
  let startedAt: string | undefined;
  let finishedAt: string | undefined;
  let attempts = 0;
  // Latest word per unit and action: a retried failure that then succeeded counts as done.
  const latest = new Map<string, RunUnitResult & { ok: boolean; phase: string }>();
  let rolledBack: RunRollback | undefined;
  for (const line of lines) {
    if (line.type === 'begun') {
      attempts++;
      startedAt = line.at;
      finishedAt = undefined;
    } else if (line.type === 'finished') {
      finishedAt = line.at;
    } else if (line.type === 'rollback') {
      rolledBack = rollbackOf(line, rolledBack);
    } else if (line.type === 'outcome' || line.type === 'verified') {
      const o = asOutcome(line.outcome);
      if (line.type === 'verified' && o.ok) continue;
      latest.set(`${o.unit}|${o.action}|${o.phase}`, {
        unit: o.unit,
        action: o.action,
        at: line.at,
        ok: o.ok,
        phase: o.phase,
        ...(o.code === undefined ? {} : { code: o.code }),
        ...(o.cause === undefined ? {} : { cause: o.cause }),
      });
    }
  }
  if (startedAt === undefined) return undefined;
  const results = [...latest.values()];
  const strip = ({ ok: _ok, phase: _phase, ...rest }: RunUnitResult & { ok: boolean; phase: string }): RunUnitResult => rest;
  return {
    key: saved.data.key,
    old: saved.data.old,
    new: saved.data.new,
    startedAt,
    ...(finishedAt === undefined ? {} : { finishedAt }),
    state: finishedAt === undefined ? 'unfinished' : 'finished',
    attempts,
    ...(rolledBack === undefined ? {} : { rolledBack }),
    done: results.filter((r) => r.ok && r.phase !== 'none').map(strip),
    failed: results.filter((r) => !r.ok && r.code !== 'NOTIFY_UNAVAILABLE').map(strip),
    // Processes left running (a notify nobody registered for) count with the skips.
    skipped: results.filter((r) => (r.ok && r.phase === 'none') || r.code === 'NOTIFY_UNAVAILABLE').map(strip),
  };
}

/** A rollback's latest step: `state` finished (with `ok`) or unfinished (begun or flipped, interrupted). */
function rollbackOf(line: Extract<JournalLine, { type: 'rollback' }>, before: RunRollback | undefined): RunRollback {
  const base = line.step === 'begun' || before === undefined ? { ...line.intent, startedAt: line.at } : before;
  if (line.step !== 'finished') return { ...base, state: 'unfinished', flipped: line.step === 'flipped' };
  return { ...base, state: 'finished', flipped: true, finishedAt: line.at, ok: line.ok === true, ...(line.cause === undefined ? {} : { cause: line.cause }) };
}
