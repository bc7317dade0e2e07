import { existsSync } from 'node:fs';
import { resolveBusAddress } from '../systemd/bus-address.js';
import type { SystemdManager } from '../types/systemd.js';

/**
 * The manager for unit facts when its bus answers. A machine without a system bus (a container, a
 * build host) still gets a plan: the reason there are no unit facts goes to `warnings`, once. An
 * explicit `--bus` that is malformed is the caller's mistake and throws; with `strict`, so does an
 * explicit one that does not answer.
 */
export async function connectOptionalManager(
  bus: string | undefined,
  warnings: string[],
  options: { needed: boolean; strict?: boolean },
): Promise<SystemdManager | undefined> {
  let address: string | undefined;
  try {
    address = resolveBusAddress(bus);
  } catch (error) {
    // A bad DBUS_SYSTEM_BUS_ADDRESS only costs the unit facts.
    if (bus !== undefined) throw error;
    if (options.needed) warnings.push(`no unit facts: ${error instanceof Error ? error.message : String(error)}`);
    return undefined;
  }
  if (!options.needed) return undefined;
  const socket = /^unix:path=([^,;]+)/.exec(address)?.[1];
  if (socket !== undefined && !existsSync(socket) && !(options.strict === true && bus !== undefined)) {
    warnings.push(`no unit facts: no system bus at ${address}`);
    return undefined;
  }
  try {
    // Loaded only here: dbus-next is not needed when no unit has to be described.
    const { connectSystemd } = await import('../systemd/adapter.js');
    return await connectSystemd({ busAddress: address, callTimeoutMs: 5000 });
  } catch (error) {
    if (options.strict === true && bus !== undefined) throw error;
    warnings.push(`no unit facts: ${error instanceof Error ? error.message : String(error)}`);
    return undefined;
  }
}
