/** A switch `apply` (or `hook`, `watch`) deferred because it came outside the maintenance window. */
export interface DeferredSwitch {
  version: 1;
  old: string;
  new: string;
  command: 'apply' | 'hook' | 'watch';
  deferredAt: string;
  /** When the window opens next (ISO 8601). */
  nextWindowStart: string;
  /** The window, in words: "sat,sun 02:00-05:00 Europe/Berlin". */
  window: string;
}

/** Who holds a fleet slot, as a waiting run saw it. */
export interface FleetSlotHolder {
  host: string;
  slot: number;
  unit: string;
  since: string;
}

/** What a run does in the fleet right now: the slots it waits for and holds. */
export interface FleetRun {
  version: 1;
  pid: number;
  startTime: number;
  updatedAt: string;
  waiting: { group: string; unit: string; since: string; holders: FleetSlotHolder[] }[];
  holding: { group: string; unit: string; slot: number; since: string }[];
}

/** `restartd status`'s fleet part: a deferred switch, and what a live run waits for and holds. */
export interface FleetStatus {
  deferred?: DeferredSwitch;
  waiting: FleetRun['waiting'];
  holding: FleetRun['holding'];
}
