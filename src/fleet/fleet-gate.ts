import type { FleetConfig } from '../config/fleet-schema.js';
import { realpathSync } from 'node:fs';
import type { FleetGate, FleetHold, FleetHolder } from '../types/outcome.js';
import type { FleetHeld, FleetRollbackRecord } from '../types/fleet.js';
import { RestartdError } from '../errors.js';
import { heldText } from '../report/rollback-text.js';
import { matchesGlob } from '../config/glob.js';
import type { PlannedAction } from '../types/plan.js';

/** The etcd semaphore as the gate uses it (src/fleet/etcd-semaphore.ts), so the gate needs no etcd. */
export interface Semaphore {
  acquire(
    group: string,
    options: {
      slots: number;
      value: { host: string; pid: number; unit: string; since: string };
      waitTimeoutMs: number;
      onWait?: ((holders: FleetHolder[]) => void) | undefined;
      onLost?: ((message: string) => void) | undefined;
    },
  ): Promise<{ slot: number; release(): Promise<void> }>;
  /** Rollback records (src/fleet/etcd-semaphore.ts `rollbacks/<host>`). */
  recordRollback?(group: string, record: FleetRollbackRecord): Promise<void>;
  rollbacks?(group: string): Promise<FleetRollbackRecord[]>;
  close(): Promise<void>;
}

export interface FleetGateOptions {
  config: FleetConfig;
  /** This host's name in the fleet (fleetHostName). */
  host: string;
  /** The slots across hosts (`--fleet`); absent: only the delay with jitter applies. */
  semaphore?: Semaphore | undefined;
  /** --fleet-slots K, over the config's `slots`. */
  slots?: number | undefined;
  /** A held slot's lease was lost. */
  onWarning?: ((message: string) => void) | undefined;
  /** [0, 1): the jitter's share (tests pass a fixed one). */
  random?: () => number;
}

/** The group of a unit: the first config group whose glob matches it, else the unit itself. */
export function groupOfUnit(unit: string, groups: FleetConfig['groups']): string {
  return groups.find((g) => matchesGlob(g.match, unit))?.group ?? unit;
}

/** The delay before a run's first restart: delaySeconds plus up to jitterSeconds, in ms. */
export function delayMsOf(config: Pick<FleetConfig, 'delaySeconds' | 'jitterSeconds'>, random: () => number = Math.random): number {
  return Math.round((config.delaySeconds + random() * config.jitterSeconds) * 1000);
}

/**
 * The FleetGate of a run: the configured delay with jitter once, before the first restart; then
 * for each restart a slot of its group from the semaphore (at most K hosts at once).
 */
export function createFleetGate(options: FleetGateOptions): FleetGate & { close(): Promise<void> } {
  const { config, semaphore } = options;
  const slots = options.slots ?? config.slots;
  let delayed: Promise<void> | undefined;
  let rollout: { old: string; new: string; newTarget: string; keepSlots: boolean } | undefined;
  let held: FleetHeld | undefined;
  // Slots kept until the switch's verdict (rollback armed), by group: the run's later actions of the group reuse them.
  const kept = new Map<string, FleetHold>();
  const heldError = (found: FleetHeld): RestartdError => new RestartdError('FLEET', heldText(found), { subject: found.group });
  /** Another host's rollback of this switch's new generation, recorded under `group`. */
  const holdIn = async (group: string): Promise<FleetHeld | undefined> => {
    if (rollout === undefined || semaphore?.rollbacks === undefined) return undefined;
    const mine = rollout;
    const found = (await semaphore.rollbacks(group)).find((r) => r.host !== options.host && (r.new === mine.new || r.newTarget === mine.newTarget));
    return found === undefined ? undefined : { host: found.host, group, new: found.new, old: found.old, reason: found.reason, time: found.time };
  };
  return {
    beginSwitch(next) {
      rollout = { ...next, newTarget: resolved(next.new) };
      held = undefined;
    },
    async checkHold(groups) {
      for (const group of new Set(groups)) {
        const found = await holdIn(group).catch(() => undefined);
        if (found !== undefined) return (held = found);
      }
      return undefined;
    },
    held: () => held,
    async recordRollback(groups, reason) {
      if (rollout === undefined || semaphore?.recordRollback === undefined) return;
      const record: FleetRollbackRecord = { host: options.host, new: rollout.new, newTarget: rollout.newTarget, old: rollout.old, reason, time: new Date().toISOString() };
      for (const group of new Set(groups)) {
        try {
          await semaphore.recordRollback(group, record);
        } catch (error) {
          options.onWarning?.(`fleet: could not record the rollback of ${rollout.new} under group ${group} (${error instanceof Error ? error.message : String(error)}): other hosts will not be held by it`);
        }
      }
    },
    async releaseKept() {
      const holds = [...kept.values()];
      kept.clear();
      await Promise.all(holds.map((hold) => hold.release()));
    },
    groupOf(action: PlannedAction): string {
      return groupOfUnit(action.unit ?? action.owner.name, config.groups);
    },
    async acquire(group, action, onWait, onDelay): Promise<FleetHold> {
      delayed ??= (async () => {
        const ms = delayMsOf(config, options.random);
        if (ms <= 0) return;
        onDelay(ms);
        await new Promise((resolve) => setTimeout(resolve, ms));
      })();
      await delayed;
      if (held !== undefined) throw heldError(held);
      const reuse = kept.get(group);
      if (reuse !== undefined) return { ...reuse, waitedMs: 0, kept: true, release: async () => {} };
      const started = performance.now();
      if (semaphore === undefined) return { group, slot: -1, waitedMs: 0, release: async () => {} };
      const slot = await semaphore.acquire(group, {
        slots,
        value: { host: options.host, pid: process.pid, unit: action.unit ?? action.owner.name, since: new Date().toISOString() },
        waitTimeoutMs: config.waitTimeoutSeconds * 1000,
        onWait,
        onLost: options.onWarning,
      });
      // The slot is ours: a host that held it before may have rolled this release back meanwhile.
      const found = await holdIn(group).catch(() => undefined);
      if (found !== undefined) {
        held = found;
        await slot.release();
        throw heldError(found);
      }
      const hold: FleetHold = { group, slot: slot.slot, waitedMs: Math.round(performance.now() - started), release: () => slot.release() };
      if (rollout?.keepSlots !== true) return hold;
      kept.set(group, hold);
      return { ...hold, kept: true, release: async () => {} };
    },
    async close(): Promise<void> {
      const holds = [...kept.values()];
      kept.clear();
      await Promise.all(holds.map((hold) => hold.release()));
      await semaphore?.close();
    },
  };
}

function resolved(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}
