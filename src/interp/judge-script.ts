import type { ChangeIndex } from '../match/changeset-index.js';
import type { StaleFile } from '../types/stale.js';
import { dirname } from './program-tree.js';

export interface ScriptJudgeInput {
  /** The program's files to judge (program file first), as the process sees them. */
  paths: readonly string[];
  /** With a ChangeSet, it decides; without one, file times against the process start do. */
  changes?: ChangeIndex | undefined;
  /** Process start, ms since the epoch; undefined when the boot time is unknown. */
  startedAtMs: number | undefined;
  toleranceMs: number;
  /** ctime (ms since the epoch) of what is at the path now; null when nothing is. */
  changedAtOf(path: string): number | null;
  /** Without a ChangeSet, a program file named by absolute path that is gone counts as deleted. */
  programIfAbsolute?: string | undefined;
}

/**
 * Which of an interpreted program's files make its process stale, with the evidence. Pure: the
 * disk is asked only through `changedAtOf`.
 *
 * With a ChangeSet: its verdict for the path (changed, removed, left-generation). A change in
 * place (same path old and new, e.g. a package upgrade) counts only if the file did not change
 * clearly before the process started — a process started after the switch already runs the new
 * code. Without one: a file whose ctime is later than the start plus the tolerance.
 */
export function judgeScriptFiles(input: ScriptJudgeInput): StaleFile[] {
  const stale: StaleFile[] = [];
  const seen = new Set<string>();
  for (const path of input.paths) {
    if (seen.has(path)) continue;
    seen.add(path);
    const file = input.changes ? judgeByChangeSet(path, input.changes, input) : judgeByTime(path, input);
    if (file) stale.push(file);
  }
  return stale;
}

function judgeByChangeSet(path: string, changes: ChangeIndex, input: ScriptJudgeInput): StaleFile | undefined {
  const change = changes.lookup(path);
  if (!change) return undefined;
  const base = { path, via: 'script' as const };
  if (change.kind === 'left-generation') return { ...base, kind: 'left-generation', storePath: change.storePath };
  if (change.kind === 'changed') {
    if (change.newPath !== path) return { ...base, kind: 'changed', new: { path: change.newPath } };
    return changedBeforeStart(input.changedAtOf(path), input) ? undefined : { ...base, kind: 'changed', new: { path } };
  }
  // Still on disk: the old generation's copy, which the process runs. Gone: removed in place,
  // which the directory's ctime dates.
  if (input.changedAtOf(path) !== null) return { ...base, kind: 'removed' };
  return changedBeforeStart(input.changedAtOf(dirname(path)), input) ? undefined : { ...base, kind: 'removed' };
}

function changedBeforeStart(changedAt: number | null, input: ScriptJudgeInput): boolean {
  return changedAt !== null && input.startedAtMs !== undefined && changedAt <= input.startedAtMs - input.toleranceMs;
}

function judgeByTime(path: string, input: ScriptJudgeInput): StaleFile | undefined {
  if (input.startedAtMs === undefined) return undefined;
  const changedAt = input.changedAtOf(path);
  if (changedAt === null) return path === input.programIfAbsolute ? { path, via: 'script', kind: 'deleted' } : undefined;
  if (changedAt <= input.startedAtMs + input.toleranceMs) return undefined;
  return { path, via: 'script', kind: 'modified-after-start', changedAt: Math.round(changedAt), startedAt: Math.round(input.startedAtMs) };
}
