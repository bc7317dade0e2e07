import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

/**
 * This host's name in the fleet: `--fleet-host NAME` when given, else /etc/machine-id (stable
 * across renames), else the hostname.
 */
export function fleetHostName(override?: string, machineIdPath = '/etc/machine-id'): string {
  if (override !== undefined && override !== '') return override;
  try {
    const id = readFileSync(machineIdPath, 'utf8').trim();
    if (/^[0-9a-f]{32}$/.test(id)) return `${hostname()}/${id.slice(0, 12)}`;
  } catch {
    // no machine-id (containers): the hostname
  }
  return hostname();
}
