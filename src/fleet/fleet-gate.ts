import type { FleetConfig } from '../config/fleet-schema.js';
import type { FleetGate, FleetHold, FleetHolder } from '../types/outcome.js';
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
  return {
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
      const started = performance.now();
      if (semaphore === undefined) return { group, slot: -1, waitedMs: 0, release: async () => {} };
      const held = await semaphore.acquire(group, {
        slots,
        value: { host: options.host, pid: process.pid, unit: action.unit ?? action.owner.name, since: new Date().toISOString() },
        waitTimeoutMs: config.waitTimeoutSeconds * 1000,
        onWait,
        onLost: options.onWarning,
      });
      return { group, slot: held.slot, waitedMs: Math.round(performance.now() - started), release: () => held.release() };
    },
    async close(): Promise<void> {
      await semaphore?.close();
    },
  };
}
