import type { EventEmitter } from 'eventemitter3';
import type { Config } from '../config/schema.js';
import type { ExecuteEvents, FleetGate } from '../execute/types.js';
import type { FleetArgs } from '../fleet/open-fleet.js';
import type { CliIO } from './io.js';

/** What apply, hook and watch share of the fleet (issue 7): the gate, its event lines, status tracking. */
export interface FleetSession {
  gate: FleetGate | undefined;
  close(): Promise<void>;
}

/**
 * Opens the fleet gate of a run (see openFleetGate) and prints its events as lines (not with
 * --json); with a state dir, keeps STATE/fleet-run.json for `restartd status`. Without --fleet
 * and without a delay in the config, nothing is loaded and the run is what it always was.
 */
export async function openFleetSession(
  fleet: FleetArgs | undefined,
  config: Config,
  events: EventEmitter<ExecuteEvents>,
  io: CliIO,
  options: { json: boolean; stateDir?: string | undefined },
): Promise<FleetSession> {
  const warn = (message: string): void => io.err(`restartd: warning: ${message}\n`);
  const wanted = fleet?.endpoints !== undefined || (config.fleet !== undefined && (config.fleet.delaySeconds > 0 || config.fleet.jitterSeconds > 0)) || hasFleetFlags(fleet);
  if (!wanted) return { gate: undefined, close: async () => {} };
  const { openFleetGate } = await import('../fleet/open-fleet.js');
  const gate = await openFleetGate(fleet ?? {}, config, warn);
  if (gate === undefined) return { gate: undefined, close: async () => {} };
  const { fleetAcquiredLine, fleetDelayLine, fleetReleasedLine, fleetWaitingLine } = await import('../fleet/fleet-text.js');
  const listeners = {
    delay: (ms: number) => io.out(`${fleetDelayLine(ms)}\n`),
    waiting: (...[group, action, holders]: ExecuteEvents['fleet:waiting']) => io.out(`${fleetWaitingLine(group, action, holders)}\n`),
    acquired: (...[group, action, hold]: ExecuteEvents['fleet:acquired']) => io.out(`${fleetAcquiredLine(group, action, hold)}\n`),
    released: (...[group, action, hold]: ExecuteEvents['fleet:released']) => io.out(`${fleetReleasedLine(group, action, hold)}\n`),
  };
  if (!options.json) {
    events.on('fleet:delay', listeners.delay);
    events.on('fleet:waiting', listeners.waiting);
    events.on('fleet:acquired', listeners.acquired);
    events.on('fleet:released', listeners.released);
  }
  let untrack = (): void => {};
  if (options.stateDir !== undefined) {
    const { trackFleetRun } = await import('../fleet/fleet-state.js');
    untrack = trackFleetRun(options.stateDir, events);
  }
  return {
    gate,
    async close() {
      untrack();
      events.off('fleet:delay', listeners.delay);
      events.off('fleet:waiting', listeners.waiting);
      events.off('fleet:acquired', listeners.acquired);
      events.off('fleet:released', listeners.released);
      await gate.close();
    },
  };
}

function hasFleetFlags(fleet: FleetArgs | undefined): boolean {
  // A fleet flag without --fleet is a usage error, which openFleetGate names.
  return fleet !== undefined && Object.entries(fleet).some(([key, value]) => key !== 'optional' && value !== undefined);
}
