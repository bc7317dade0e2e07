import type { EventEmitter } from 'eventemitter3';
import type { Config } from '../config/schema.js';
import type { ExecuteEvents, FleetGate } from '../types/outcome.js';
import type { FleetArgs } from '../fleet/open-fleet.js';

/** A run's fleet gate and what closes it. */
export interface FleetSession {
  gate: FleetGate | undefined;
  close(): Promise<void>;
}

const NONE: FleetSession = { gate: undefined, close: async () => {} };

/**
 * Opens the fleet gate of a run (see openFleetGate): warnings go to `events`; with a state dir,
 * STATE/fleet-run.json is kept for `restartd status`. Without --fleet and without a delay in the
 * config, nothing is loaded and the run is what it always was.
 */
export async function openFleetSession(fleet: FleetArgs | undefined, config: Config, events: EventEmitter<ExecuteEvents>, stateDir: string | undefined): Promise<FleetSession> {
  const delayed = config.fleet !== undefined && (config.fleet.delaySeconds > 0 || config.fleet.jitterSeconds > 0);
  // A fleet flag without --fleet is a usage error, which openFleetGate names.
  const flags = fleet !== undefined && Object.entries(fleet).some(([key, value]) => key !== 'optional' && value !== undefined);
  if (!delayed && !flags) return NONE;
  const { openFleetGate } = await import('../fleet/open-fleet.js');
  const gate = await openFleetGate(fleet ?? {}, config, (message) => events.emit('warning', message));
  if (gate === undefined) return NONE;
  let untrack = (): void => {};
  if (stateDir !== undefined) {
    const { trackFleetRun } = await import('../fleet/fleet-state.js');
    untrack = trackFleetRun(stateDir, events);
  }
  return {
    gate,
    async close() {
      untrack();
      await gate.close();
    },
  };
}
