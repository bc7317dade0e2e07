import type { FleetHold, FleetHolder } from '../types/outcome.js';
import type { PlannedAction } from '../types/plan.js';

const unitOf = (action: PlannedAction): string => action.unit ?? action.owner.name;
const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/** "fleet: app.service waits for a slot of group app (held by web-1 since …, web-2 since …)" */
export function fleetWaitingLine(group: string, action: PlannedAction, holders: readonly FleetHolder[]): string {
  const held = holders.length === 0 ? 'all taken' : `held by ${holders.map((h) => `${h.host} (${h.unit}, since ${h.since})`).join(', ')}`;
  return `fleet: ${unitOf(action)} waits for a slot of group ${group}: ${held}`;
}

export function fleetAcquiredLine(group: string, action: PlannedAction, hold: FleetHold): string {
  if (hold.slot < 0) return `fleet: ${unitOf(action)} goes ahead (no fleet slots)`;
  const kept = hold.kept === true ? ' (kept until this run is verified: rollback is armed)' : '';
  return `fleet: ${unitOf(action)} took slot ${hold.slot} of group ${group}${hold.waitedMs >= 100 ? ` after ${seconds(hold.waitedMs)}` : ''}${kept}`;
}

export function fleetReleasedLine(group: string, action: PlannedAction, hold: FleetHold): string {
  return `fleet: ${unitOf(action)} let go of slot ${hold.slot} of group ${group}`;
}

export function fleetDelayLine(ms: number): string {
  return `fleet: waiting ${seconds(ms)} before the first restart (delay with jitter)`;
}
