import { findUpdateAware, type FindAwareOptions } from '../aware/find-update-aware.js';
import type { Config } from '../config/schema.js';
import { planStale, type StalePlan } from '../execute/plan-stale.js';
import type { StaleProcess } from '../types/stale.js';
import { connectOptionalManager } from './optional-manager.js';
import { createUserManagers } from '../systemd/user-managers.js';

/**
 * The actions for stale processes, as `plan`, `status` and a dry run show them. The manager is
 * asked for unit facts when its bus answers; a machine without one (a container, a build host)
 * still gets a plan, with system units skipped as unit-unknown and a warning saying why. Units
 * whose stale processes all registered as update-aware are planned as notify.
 */
export async function planWithOptionalManager(
  stale: readonly StaleProcess[],
  config: Config,
  bus: string | undefined,
  awareOptions: FindAwareOptions = {},
): Promise<StalePlan> {
  const warnings: string[] = [];
  const aware = await findUpdateAware(stale, awareOptions, (file, reason) => warnings.push(`update-aware registration ${file} ignored: ${reason}`));
  // A container seen from here may be the tree of the manager at an explicit --bus (a nested systemd);
  // a user unit's manager is found in the system manager's namespaces.
  const needed = stale.some((p) => p.owner.kind === 'system-unit' || p.owner.kind === 'pid1' || p.owner.kind === 'user-unit' || (bus !== undefined && p.owner.kind === 'container'));
  const manager = await connectOptionalManager(bus, warnings, { needed });
  const users = createUserManagers({ system: manager, process: manager?.process });
  try {
    const planned = await planStale(stale, config, manager, aware, users);
    return { ...planned, warnings: [...warnings, ...planned.warnings] };
  } finally {
    users.close();
    manager?.close();
  }
}
