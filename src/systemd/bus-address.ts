import { RestartdError } from '../errors.js';

const DEFAULT_SYSTEM_BUS = 'unix:path=/run/dbus/system_bus_socket';

/** The bus address connectSystemd uses for these options. */
export function resolveBusAddress(busAddress?: string): string {
  const fromEnv = busAddress === undefined ? process.env['DBUS_SYSTEM_BUS_ADDRESS'] : undefined;
  const address = busAddress ?? fromEnv ?? DEFAULT_SYSTEM_BUS;
  // Checked here, not by dbus-next: its errors for a bad address are TypeErrors and missing modules.
  if (!/^unix:path=[^,;]+(,[a-z]+=[^,;]*)*$/.test(address) && !/^tcp:host=[^,;]+,port=\d+(,[a-z]+=[^,;]*)*$/.test(address)) {
    const source = busAddress !== undefined ? '--bus' : fromEnv !== undefined ? 'DBUS_SYSTEM_BUS_ADDRESS' : 'the default bus';
    throw new RestartdError('BUS', `${source}: expected unix:path=/path/to/socket or tcp:host=HOST,port=PORT, got "${address}"`, { subject: address });
  }
  return address;
}
