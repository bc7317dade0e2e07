import { existsSync } from 'node:fs';
import { findUpdateAware, type FindAwareOptions } from '../aware/find-update-aware.js';
import type { Config } from '../config/schema.js';
import { planStale, type StalePlan } from '../execute/plan-stale.js';
import type { StaleProcess } from '../match/types.js';
import { renderPlanText } from '../plan/plan-text.js';
import { resolveBusAddress } from '../systemd/bus-address.js';
import type { SystemdManager } from '../systemd/types.js';

/**
 * `restartd plan`'s actions. The manager is asked for unit facts when its bus answers; a machine
 * without one (a container, a build host) still gets a plan, with system units skipped as
 * unit-unknown and a warning saying why. Units whose stale processes all registered as update-aware
 * are planned as notify (registrations from `awareOptions.dirs`, default the system and users' dirs).
 */
export async function planWithOptionalManager(
  stale: readonly StaleProcess[],
  config: Config,
  bus: string | undefined,
  awareOptions: FindAwareOptions = {},
): Promise<StalePlan & { text: string }> {
  const warnings: string[] = [];
  const aware = await findUpdateAware(stale, awareOptions, (file, reason) => warnings.push(`update-aware registration ${file} ignored: ${reason}`));
  let manager: SystemdManager | undefined;
  const needsManager = stale.some((p) => p.owner.kind === 'system-unit' || p.owner.kind === 'pid1');
  let address: string | undefined;
  try {
    address = resolveBusAddress(bus);
  } catch (error) {
    // A bad --bus is the caller's mistake; a bad DBUS_SYSTEM_BUS_ADDRESS only costs the unit facts.
    if (bus !== undefined) throw error;
    if (needsManager) warnings.push(`no unit facts: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (address !== undefined && needsManager) {
    const socket = /^unix:path=([^,;]+)/.exec(address)?.[1];
    if (socket !== undefined && !existsSync(socket)) {
      warnings.push(`no unit facts: no system bus at ${address}`);
    } else {
      try {
        // Loaded only here: dbus-next is not needed when no unit has to be described.
        const { connectSystemd } = await import('../systemd/adapter.js');
        manager = await connectSystemd({ busAddress: address, callTimeoutMs: 5000 });
      } catch (error) {
        warnings.push(`no unit facts: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }
  try {
    const planned = await planStale(stale, config, manager, aware);
    const text = planned.plan.actions.length > 0 ? `\n${renderPlanText(planned.plan, { dryRun: true })}` : '';
    return { ...planned, warnings: [...warnings, ...planned.warnings], text };
  } finally {
    manager?.close();
  }
}
