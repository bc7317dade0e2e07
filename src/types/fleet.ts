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

/**
 * A release another host of the fleet rolled back (`/restartd/fleet/<group>/rollbacks/<host>` in
 * etcd): a run of the same new generation stops before its first restart (exit 8).
 */
export interface FleetHeld {
  /** The host that rolled back. */
  host: string;
  /** The group under which it was recorded. */
  group: string;
  /** The new generation it rolled back from, and the old one it went back to, as that host named them. */
  new: string;
  old: string;
  reason: string;
  /** When it rolled back (ISO 8601). */
  time: string;
}

/** What a host records in etcd when it rolls back (the value of its `rollbacks/<host>` key). */
export interface FleetRollbackRecord {
  host: string;
  new: string;
  /** The new generation's resolved path: hosts that name it differently (a profile's N-link) still match. */
  newTarget: string;
  old: string;
  reason: string;
  time: string;
}
