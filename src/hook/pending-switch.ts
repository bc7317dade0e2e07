import { existsSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as z from 'zod';
import { errnoCode } from '../errors.js';
import { readJsonFile, writeFileDurably } from '../journal/durable-file.js';
import { ensureStateDir } from '../journal/state-dir.js';

/** A switch a hook invocation asked for and no run has carried out yet. */
export const PendingSwitchSchema = z.object({
  version: z.literal(1),
  old: z.string().min(1),
  new: z.string().min(1),
  source: z.enum(['dir', 'nix', 'manifest']).optional(),
  storeDir: z.string().optional(),
  /** When the first invocation of this pending switch came, and how many have been folded into it. */
  since: z.string(),
  invocations: z.number().int().positive(),
});
export type PendingSwitch = z.infer<typeof PendingSwitchSchema>;
export type SwitchRequest = Pick<PendingSwitch, 'old' | 'new' | 'source' | 'storeDir'>;

const PENDING = 'pending.json';
// A switch a run has taken but not finished: a run killed mid-way leaves it for the next one.
const TAKEN = 'pending-taken.json';

function read(path: string): PendingSwitch | undefined {
  const parsed = PendingSwitchSchema.safeParse(readJsonFile(path));
  return parsed.success ? parsed.data : undefined;
}

/**
 * Folds a hook invocation into the pending switch (write-temp-then-rename): the earliest `old`
 * stays, the latest `new` wins. Ten invocations of one transaction make one pending switch.
 */
export function recordPending(stateDir: string, request: SwitchRequest): PendingSwitch {
  ensureStateDir(stateDir);
  const path = join(stateDir, PENDING);
  const before = read(path);
  const next: PendingSwitch = {
    version: 1,
    old: before?.old ?? request.old,
    new: request.new,
    ...(request.source === undefined ? {} : { source: request.source }),
    ...(request.storeDir === undefined ? {} : { storeDir: request.storeDir }),
    since: before?.since ?? new Date().toISOString(),
    invocations: (before?.invocations ?? 0) + 1,
  };
  writeFileDurably(path, `${JSON.stringify(next)}\n`);
  return next;
}

/**
 * Under the state lock: the switch to carry out next, or undefined when none is waiting. A switch
 * taken by a run that died is returned again first (its journal then resumes it).
 */
export function takePending(stateDir: string): PendingSwitch | undefined {
  const taken = join(stateDir, TAKEN);
  const left = read(taken);
  if (left !== undefined) return left;
  try {
    renameSync(join(stateDir, PENDING), taken);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw error;
  }
  return read(taken);
}

/** Under the state lock, after the taken switch was carried out. */
export function finishTaken(stateDir: string): void {
  rmSync(join(stateDir, TAKEN), { force: true });
}

export function hasPending(stateDir: string): boolean {
  return existsSync(join(stateDir, PENDING)) || existsSync(join(stateDir, TAKEN));
}

/** The pending switch, if any (for messages and `status`). */
export function readPending(stateDir: string): PendingSwitch | undefined {
  return read(join(stateDir, PENDING));
}
