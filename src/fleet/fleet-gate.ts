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
  // This host's slot of each group, shared by all of its actions of the group that overlap: a host
  // holds at most one slot of a group, so its own actions never wait for each other (a slot kept
  // until the verdict, or a stop-start's held from its stop to its start, would never come free to
  // them). Set before the semaphore is asked, so a concurrent action of the group waits for that ask.
  const shared = new Map<string, SharedSlot>();
  const heldError = (found: FleetHeld): RestartdError => new RestartdError('FLEET', heldText(found), { subject: found.group });
  /** Another host's rollback of this switch's new generation, recorded under `group`. */
  const holdIn = async (group: string): Promise<FleetHeld | undefined> => {
    if (rollout === undefined || semaphore?.rollbacks === undefined) return undefined;
    const mine = rollout;
    const found = (await semaphore.rollbacks(group)).find((r) => r.host !== options.host && (r.new === mine.new || r.newTarget === mine.newTarget));
    return found === undefined ? undefined : { host: found.host, group, new: found.new, old: found.old, reason: found.reason, time: found.time };
  };
  /** Asks the semaphore for a slot of `group` for this host; every action of the group waiting meanwhile hears of the holders. */
  function takeSlot(from: Semaphore, group: string, action: PlannedAction, onWait: (holders: FleetHolder[]) => void): SharedSlot {
    const listeners = new Set([onWait]);
    let lastHolders: FleetHolder[] | undefined;
    let release: (() => Promise<void>) | undefined;
    const taking = (async () => {
      const slot = await from.acquire(group, {
        slots,
        value: { host: options.host, pid: process.pid, unit: action.unit ?? action.owner.name, since: new Date().toISOString() },
        waitTimeoutMs: config.waitTimeoutSeconds * 1000,
        onWait: (holders) => {
          lastHolders = holders;
          for (const listener of listeners) listener(holders);
        },
        onLost: options.onWarning,
      });
      listeners.clear();
      // The slot is ours: a host that held it before may have rolled this release back meanwhile.
      const found = await holdIn(group).catch(() => undefined);
      if (found !== undefined) {
        held = found;
        await slot.release();
        throw heldError(found);
      }
      release = once(() => slot.release());
      return slot.slot;
    })();
    // A failed ask is each waiter's error; unobserved, it must not be an unhandled rejection.
    taking.catch(() => {});
    const entry: SharedSlot = {
      group,
      kept: rollout?.keepSlots === true,
      users: 0,
      taking,
      joined(listener) {
        listeners.add(listener);
        if (lastHolders !== undefined) listener(lastHolders);
      },
      letGo: async () => {
        await taking.catch(() => {});
        await release?.();
      },
    };
    return entry;
  }
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
      const kept = [...shared.values()].filter((entry) => entry.kept);
      for (const entry of kept) shared.delete(entry.group);
      await Promise.all(kept.map((entry) => entry.letGo()));
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
      if (semaphore === undefined) return { group, slot: -1, waitedMs: 0, release: async () => {} };
      const started = performance.now();
      let entry = shared.get(group);
      if (entry === undefined) {
        entry = takeSlot(semaphore, group, action, onWait);
        shared.set(group, entry);
      } else {
        entry.joined(onWait);
      }
      entry.users++;
      let slot: number;
      try {
        slot = await entry.taking;
      } catch (error) {
        if (shared.get(group) === entry) shared.delete(group);
        throw error;
      }
      const waitedMs = Math.round(performance.now() - started);
      if (entry.kept) return { group, slot, waitedMs, kept: true, release: async () => {} };
      const mine = entry;
      let released = false;
      return {
        group,
        slot,
        waitedMs,
        release: async () => {
          if (released) return;
          released = true;
          if (--mine.users > 0) return;
          if (shared.get(group) === mine) shared.delete(group);
          await mine.letGo();
        },
      };
    },
    async close(): Promise<void> {
      const left = [...shared.values()];
      shared.clear();
      await Promise.all(left.map((entry) => entry.letGo()));
      await semaphore?.close();
    },
  };
}

/** A slot of one group held by this host, shared by its actions of the group (see `shared`). */
interface SharedSlot {
  group: string;
  /** Kept until releaseKept (rollback armed when it was taken): its actions' release lets go of nothing. */
  kept: boolean;
  /** The actions holding it (not kept: the last one's release lets the slot go). */
  users: number;
  /** The slot's number, once the semaphore gave it (rejects as the ask failed). */
  taking: Promise<number>;
  /** Another action of the group waits for this ask too: it hears of the holders. */
  joined(onWait: (holders: FleetHolder[]) => void): void;
  /** Lets go of the slot (once; nothing when the ask failed). */
  letGo(): Promise<void>;
}

function once(release: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => (done ??= release());
}

function resolved(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}
