import type { ChangeSet } from '../types/generation.js';
import type { InterpSummary } from '../types/interp.js';
import type { PlannedAction } from '../types/plan.js';
import type { StaleProcess } from '../types/stale.js';
import type { ScanResult, UnreadableProcess } from '../types/process.js';
import type { RollbackArmed } from '../types/rollback.js';

/** The JSON document `restartd status --json` and `restartd plan --json` print. Field names are a contract. */
export interface StaleReport {
  version: 1;
  generations?: {
    old: { source: string; path: string };
    new: { source: string; path: string };
    counts: { changed: number; removed: number; added: number; unchanged: number; leftGeneration: number };
  };
  scanned: { processes: number; unreadable: number; vanished: number; durationMs: number; heldFilesNotExamined?: number };
  unreadable: UnreadableProcess[];
  stale: StaleProcess[];
  owners: Array<{ kind: string; name: string; pids: number[] }>;
  /** Interpreted programs: how many were examined, and whether a cap or the time budget was hit. */
  interp?: InterpSummary;
  /** `restartd plan`: what would be done per owner (see src/plan). */
  actions?: PlannedAction[];
  /** `restartd plan` with rollback armed (--link LINK --rollback, or the config's rollback.on): what a failure onto NEW would roll back. */
  rollback?: RollbackArmed;
}

export function buildStaleReport(input: {
  scan: ScanResult;
  stale: StaleProcess[];
  durationMs: number;
  changeSet?: ChangeSet | undefined;
}): StaleReport {
  const { scan, stale, changeSet } = input;
  return {
    version: 1,
    ...(changeSet
      ? {
          generations: {
            old: changeSet.old,
            new: changeSet.new,
            counts: {
              changed: changeSet.changed.length,
              removed: changeSet.removed.length,
              added: changeSet.added.length,
              unchanged: changeSet.unchanged,
              leftGeneration: changeSet.leftGeneration?.length ?? 0,
            },
          },
        }
      : {}),
    scanned: {
      processes: scan.processes.length,
      unreadable: scan.unreadable.length,
      vanished: scan.vanished,
      durationMs: Math.round(input.durationMs),
      ...heldOverflow(scan),
    },
    unreadable: scan.unreadable,
    stale,
    owners: groupByOwner(stale).map(({ kind, name, processes }) => ({ kind, name, pids: processes.map((p) => p.pid) })),
    ...(scan.interp ? { interp: scan.interp } : {}),
  };
}

export interface OwnerGroup {
  kind: string;
  name: string;
  processes: StaleProcess[];
}

/** Stale processes grouped by owner, owners sorted by kind then name. */
export function groupByOwner(stale: readonly StaleProcess[]): OwnerGroup[] {
  const groups = new Map<string, OwnerGroup>();
  for (const p of stale) {
    const key = `${p.owner.kind}\0${p.owner.name}`;
    let group = groups.get(key);
    if (!group) {
      group = { kind: p.owner.kind, name: p.owner.name, processes: [] };
      groups.set(key, group);
    }
    group.processes.push(p);
  }
  return [...groups.values()].sort((a, b) => a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name));
}

/** Held files past the per-process cap, summed over the scan: said only when some were left out. */
function heldOverflow(scan: ScanResult): { heldFilesNotExamined?: number } {
  const total = scan.processes.reduce((sum, image) => sum + (image.heldFilesNotExamined ?? 0), 0);
  return total > 0 ? { heldFilesNotExamined: total } : {};
}
