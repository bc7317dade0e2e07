/** In the state dir: the switch deferred to the next maintenance window, and a running run's slots. */
export const DEFERRED_FILE = 'fleet-deferred.json';
export const FLEET_RUN_FILE = 'fleet-run.json';
