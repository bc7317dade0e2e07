import { join } from 'node:path';
import { rmSync } from 'node:fs';
import type { EventEmitter } from 'eventemitter3';
import * as z from 'zod';
import type { ExecuteEvents } from '../types/outcome.js';
import { readJsonFile, writeFileDurably } from '../journal/durable-file.js';
import { procStartTime } from '../journal/proc-start-time.js';
import { DEFERRED_FILE, FLEET_RUN_FILE } from './fleet-files.js';
import type { DeferredSwitch, FleetRun, FleetStatus } from '../types/fleet.js';
import type { WindowVerdict } from './window-gate.js';

export type { DeferredSwitch, FleetRun, FleetStatus };

export { DEFERRED_FILE, FLEET_RUN_FILE };

type ClosedWindow = Extract<WindowVerdict, { open: false }>;

/** A switch `apply` (or `hook`, `watch`) deferred because it came outside the maintenance window. */
export const DeferredSwitchSchema = z.object({
  version: z.literal(1),
  old: z.string().min(1),
  new: z.string().min(1),
  command: z.enum(['apply', 'hook', 'watch']),
  deferredAt: z.string(),
  /** When the window opens next (ISO 8601). */
  nextWindowStart: z.string(),
  /** The window, in words: "sat,sun 02:00-05:00 Europe/Berlin". */
  window: z.string(),
});
// The schema parses exactly the vocabulary's type.
DeferredSwitchSchema satisfies z.ZodType<DeferredSwitch>;

const HolderSchema = z.object({ host: z.string(), slot: z.number().int(), unit: z.string(), since: z.string() });

/** What a run does in the fleet right now: the slots it waits for and holds. */
export const FleetRunSchema = z.object({
  version: z.literal(1),
  pid: z.number().int().positive(),
  startTime: z.number().int().nonnegative(),
  updatedAt: z.string(),
  waiting: z.array(z.object({ group: z.string(), unit: z.string(), since: z.string(), holders: z.array(HolderSchema) })),
  holding: z.array(z.object({ group: z.string(), unit: z.string(), slot: z.number().int(), since: z.string() })),
});
FleetRunSchema satisfies z.ZodType<FleetRun>;


export function recordDeferred(stateDir: string, deferred: Pick<DeferredSwitch, 'old' | 'new' | 'command'>, verdict: ClosedWindow): DeferredSwitch {
  const record: DeferredSwitch = { version: 1, ...deferred, deferredAt: new Date().toISOString(), nextWindowStart: verdict.nextStart.toISOString(), window: verdict.window };
  writeFileDurably(join(stateDir, DEFERRED_FILE), `${JSON.stringify(record)}\n`);
  return record;
}

/** After a run of a switch: its deferral is over (another switch's stays). */
export function clearDeferred(stateDir: string, oldPath: string, newPath: string): void {
  const deferred = DeferredSwitchSchema.safeParse(readJsonFile(join(stateDir, DEFERRED_FILE)));
  if (!deferred.success || (deferred.data.old === oldPath && deferred.data.new === newPath)) rmSync(join(stateDir, DEFERRED_FILE), { force: true });
}

/** After the hook drained every pending switch: nothing is deferred any more. */
export function clearAllDeferred(stateDir: string): void {
  rmSync(join(stateDir, DEFERRED_FILE), { force: true });
}

/** The fleet part of `status`: files that do not parse, and a dead run's file, count as absent. */
export function readFleetStatus(stateDir: string): FleetStatus {
  const deferred = DeferredSwitchSchema.safeParse(readJsonFile(join(stateDir, DEFERRED_FILE)));
  const run = FleetRunSchema.safeParse(readJsonFile(join(stateDir, FLEET_RUN_FILE)));
  const live = run.success && procStartTime(run.data.pid) === run.data.startTime;
  return {
    ...(deferred.success ? { deferred: deferred.data } : {}),
    waiting: live ? run.data.waiting : [],
    holding: live ? run.data.holding : [],
  };
}

/**
 * Keeps STATE/fleet-run.json up to date from a run's fleet events, for `restartd status` (another
 * process) to show what this run waits for. `detach` removes the listeners and the file.
 */
export function trackFleetRun(stateDir: string, events: EventEmitter<ExecuteEvents>): () => void {
  const path = join(stateDir, FLEET_RUN_FILE);
  const state: FleetRun = { version: 1, pid: process.pid, startTime: procStartTime(process.pid) ?? 0, updatedAt: '', waiting: [], holding: [] };
  const write = (): void => {
    state.updatedAt = new Date().toISOString();
    try {
      writeFileDurably(path, `${JSON.stringify(state)}\n`);
    } catch {
      // status then shows less; the run goes on
    }
  };
  const unitOf = (action: { unit?: string; owner: { name: string } }): string => action.unit ?? action.owner.name;
  const onWaiting: (...args: ExecuteEvents['fleet:waiting']) => void = (group, action, holders) => {
    const unit = unitOf(action);
    const entry = state.waiting.find((w) => w.group === group && w.unit === unit);
    if (entry === undefined) state.waiting.push({ group, unit, since: new Date().toISOString(), holders });
    else entry.holders = holders;
    write();
  };
  const onAcquired: (...args: ExecuteEvents['fleet:acquired']) => void = (group, action, hold) => {
    const unit = unitOf(action);
    state.waiting = state.waiting.filter((w) => !(w.group === group && w.unit === unit));
    state.holding.push({ group, unit, slot: hold.slot, since: new Date().toISOString() });
    write();
  };
  const onReleased: (...args: ExecuteEvents['fleet:released']) => void = (group, action) => {
    const unit = unitOf(action);
    state.holding = state.holding.filter((h) => !(h.group === group && h.unit === unit));
    write();
  };
  events.on('fleet:waiting', onWaiting);
  events.on('fleet:acquired', onAcquired);
  events.on('fleet:released', onReleased);
  return () => {
    events.off('fleet:waiting', onWaiting);
    events.off('fleet:acquired', onAcquired);
    events.off('fleet:released', onReleased);
    rmSync(path, { force: true });
  };
}
