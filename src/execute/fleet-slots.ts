import type { EventEmitter } from 'eventemitter3';
import type { PlannedAction } from '../types/plan.js';
import { failure } from './run-action.js';
import type { ExecuteEvents, FleetGate, FleetHold, Outcome } from '../types/outcome.js';

/**
 * Whether an action takes a fleet slot: the unit jobs that take a service down or make it re-read
 * its files. Notify (the app stays up), skips, reboot hints, PID 1's re-exec and user units (whose
 * jobs restartd cannot run yet) do not.
 */
export function holdsFleetSlot(action: PlannedAction): boolean {
  const kind = action.action;
  return (kind === 'restart' || kind === 'reload' || kind === 'stop-start') && action.unit !== undefined && action.userManager === undefined;
}

interface Held {
  group: string;
  hold: FleetHold;
  /** The action that took the slot. */
  action: PlannedAction;
}

/**
 * The slots one executePlan run holds. A restart or reload holds its slot for its job; a
 * stop-start holds it from its stop (phase stop) until its start (phase start) is done, since the
 * unit is down in between.
 */
export class FleetSlots {
  // stop-start units stopped and not yet started, by unit.
  private readonly stopped = new Map<string, Held>();

  constructor(
    private readonly gate: FleetGate,
    private readonly events: EventEmitter<ExecuteEvents>,
  ) {}

  /** Runs `run` holding a slot of the action's group; with no slot to be had, the action is not run. */
  async around(action: PlannedAction, run: () => Promise<Outcome>): Promise<Outcome> {
    const unit = action.unit ?? action.owner.name;
    const startOfStopStart = action.action === 'stop-start' && action.phase === 'start';
    let held = startOfStopStart ? this.stopped.get(unit) : undefined;
    if (held === undefined) {
      const group = this.gate.groupOf(action);
      try {
        const hold = await this.gate.acquire(
          group,
          action,
          (holders) => this.events.emit('fleet:waiting', group, action, holders),
          (ms) => this.events.emit('fleet:delay', ms),
        );
        held = { group, hold, action };
      } catch (error) {
        const why = error instanceof Error ? error.message : String(error);
        // Another host rolled this release back: the run stops here.
        if (this.gate.held?.() !== undefined) return failure(action, 'FLEET_HELD', `${unit} not restarted: ${why}`);
        return failure(action, 'FLEET_UNAVAILABLE', `no fleet slot for ${unit} (group ${group}): ${why}; nothing was run`);
      }
      this.events.emit('fleet:acquired', held.group, action, held.hold);
    }
    try {
      return await run();
    } finally {
      if (action.action === 'stop-start' && action.phase === 'stop') {
        this.stopped.set(unit, held);
      } else {
        this.stopped.delete(unit);
        await this.release(held, action);
      }
    }
  }

  /** Lets go of the slots of stop-starts whose start did not come. */
  async releaseAll(): Promise<void> {
    const left = [...this.stopped.values()];
    this.stopped.clear();
    await Promise.all(left.map((held) => this.release(held, held.action)));
  }

  private async release(held: Held, action: PlannedAction): Promise<void> {
    await held.hold.release();
    // A slot kept until the switch's verdict is let go of by the gate (releaseKept), not here.
    if (held.hold.kept !== true) this.events.emit('fleet:released', held.group, action, held.hold);
  }
}
