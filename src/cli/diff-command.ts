// The module itself, not the folder's index: the index re-exports the manifest schema (zod).
import { diffGenerations } from '../generation/diff-generations.js';
import type { ChangeSet, SourceKind } from '../types/generation.js';
import { jsonText, printableLines } from '../report/printable.js';
import { EXIT } from './exit-codes.js';

export interface DiffCommandArgs {
  old: string;
  new: string;
  source?: SourceKind;
  storeDir?: string;
  json: boolean;
}

// Longest list the text summary prints before "… and N more".
const LIST_LIMIT = 20;

/** The `restartd diff --json` object. */
export function diffReport(changeSet: ChangeSet): Record<string, unknown> {
  const { old, new: next, changed, removed, added, unchanged, leftGeneration, storeDir } = changeSet;
  return {
    old,
    new: next,
    changed,
    removed,
    added,
    counts: { changed: changed.length, removed: removed.length, added: added.length, unchanged },
    ...(leftGeneration === undefined ? {} : { leftGeneration }),
    ...(storeDir === undefined ? {} : { storeDir }),
  };
}

function list(title: string, items: readonly string[]): string[] {
  if (items.length === 0) return [];
  const shown = items.slice(0, LIST_LIMIT).map((item) => `  ${item}`);
  const rest = items.length - LIST_LIMIT;
  return ['', `${title} (${items.length}):`, ...shown, ...(rest > 0 ? [`  … and ${rest} more`] : [])];
}

/** The readable `restartd diff` summary: counts, then capped lists. */
export function renderDiffText(changeSet: ChangeSet): string {
  const { old, new: next, changed, removed, added, unchanged, leftGeneration } = changeSet;
  const lines = [
    `${old.source} ${old.path} → ${next.source} ${next.path}`,
    `changed ${changed.length}, removed ${removed.length}, added ${added.length}, unchanged ${unchanged}` +
      (leftGeneration === undefined ? '' : `; ${leftGeneration.length} store path${leftGeneration.length === 1 ? '' : 's'} left the closure`),
    ...list('changed', changed.map((c) => c.rel)),
    ...list('removed', removed.map((r) => r.rel)),
    ...list('added', added.map((a) => a.rel)),
    ...list('left the closure', leftGeneration ?? []),
  ];
  return printableLines(lines);
}

/** `restartd diff OLD NEW [--json]`: prints what changed between two generations; exit code 0. */
export async function runDiff(args: DiffCommandArgs, out: (text: string) => void): Promise<number> {
  const changeSet = await diffGenerations(args.old, args.new, {
    ...(args.source === undefined ? {} : { source: args.source }),
    ...(args.storeDir === undefined ? {} : { storeDir: args.storeDir }),
  });
  out(args.json ? jsonText(diffReport(changeSet)) : renderDiffText(changeSet));
  return EXIT.OK;
}
