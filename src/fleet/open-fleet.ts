import { readFileSync } from 'node:fs';
import * as z from 'zod';
import { FleetConfigSchema, type FleetConfig } from '../config/fleet-schema.js';
import type { Config } from '../config/schema.js';
import { errnoCode, RestartdError } from '../errors.js';
import type { FleetGate } from '../types/outcome.js';
import { createFleetGate, type Semaphore } from './fleet-gate.js';
import { fleetHostName } from './host-identity.js';

/** The fleet flags of apply, hook and watch, as given. */
export interface FleetArgs {
  /** --fleet URL[,URL…]: etcd's client endpoints. */
  endpoints?: string | undefined;
  /** --fleet-ca, --fleet-cert, --fleet-key FILE: TLS (PEM). */
  ca?: string | undefined;
  cert?: string | undefined;
  key?: string | undefined;
  /** --fleet-user USER and --fleet-password-file FILE (never a password on the command line). */
  user?: string | undefined;
  passwordFile?: string | undefined;
  /** --fleet-slots K, over the config's fleet.slots. */
  slots?: string | undefined;
  /** --fleet-host NAME: this host's name in the fleet (default: machine-id, else hostname). */
  host?: string | undefined;
  /** --fleet-optional: with etcd unreachable, warn and go on as a single host. */
  optional?: boolean | undefined;
}

const EndpointSchema = z.url({ protocol: /^https?$/, error: 'expected an etcd client URL http(s)://HOST:PORT' });

/** The config's fleet section, defaults filled in (the defaults when the config has none). */
export function fleetConfigOf(config: Config): FleetConfig {
  return config.fleet ?? FleetConfigSchema.parse({});
}

/** Parses --fleet: comma-separated http(s) URLs; an error names the flag and the bad entry. */
export function parseEndpoints(value: string): string[] {
  const endpoints = value.split(',').map((e) => e.trim()).filter((e) => e !== '');
  if (endpoints.length === 0) throw new RestartdError('USAGE', '--fleet: expected URL[,URL…], got nothing', { subject: '--fleet' });
  for (const endpoint of endpoints) {
    if (!EndpointSchema.safeParse(endpoint).success) {
      throw new RestartdError('USAGE', `--fleet: expected etcd client URLs http(s)://HOST:PORT, got "${endpoint}"`, { subject: '--fleet' });
    }
  }
  return endpoints;
}

function parseSlots(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const slots = Number(value);
  if (!Number.isInteger(slots) || slots < 1 || slots > 1000) {
    throw new RestartdError('USAGE', `--fleet-slots: expected a whole number from 1 to 1000, got "${value}"`, { subject: '--fleet-slots' });
  }
  return slots;
}

function readFlagFile(flag: string, path: string | undefined): Buffer | undefined {
  if (path === undefined) return undefined;
  try {
    return readFileSync(path);
  } catch (error) {
    throw new RestartdError('BAD_INPUT', `${flag} ${path}: cannot read (${error instanceof Error ? error.message : String(error)})`, { cause: error, subject: path });
  }
}

/**
 * The fleet gate of a run, or undefined when nothing gates restarts (no --fleet, no delay in the
 * config): then the run is what it always was. With --fleet, the etcd client is loaded on demand
 * and must answer now, before anything is done: else a RestartdError('FLEET') naming every
 * endpoint, or, with --fleet-optional, a warning and a single-host run.
 */
export async function openFleetGate(args: FleetArgs, config: Config, warn: (message: string) => void): Promise<(FleetGate & { close(): Promise<void> }) | undefined> {
  const fleet = fleetConfigOf(config);
  const slots = parseSlots(args.slots);
  const host = fleetHostName(args.host);
  const local = (): (FleetGate & { close(): Promise<void> }) | undefined =>
    fleet.delaySeconds > 0 || fleet.jitterSeconds > 0 ? createFleetGate({ config: fleet, host, onWarning: warn }) : undefined;
  if (args.endpoints === undefined) {
    for (const [flag, value] of [['--fleet-ca', args.ca], ['--fleet-cert', args.cert], ['--fleet-key', args.key], ['--fleet-user', args.user], ['--fleet-password-file', args.passwordFile], ['--fleet-slots', args.slots], ['--fleet-host', args.host]] as const) {
      if (value !== undefined) throw new RestartdError('USAGE', `${flag} needs --fleet URL[,URL…]`, { subject: flag });
    }
    return local();
  }
  const endpoints = parseEndpoints(args.endpoints);
  if ((args.cert === undefined) !== (args.key === undefined)) throw new RestartdError('USAGE', '--fleet-cert and --fleet-key go together', { subject: '--fleet-cert' });
  if ((args.cert !== undefined || args.key !== undefined) && args.ca === undefined) throw new RestartdError('USAGE', '--fleet-cert and --fleet-key need --fleet-ca FILE', { subject: '--fleet-ca' });
  if ((args.user === undefined) !== (args.passwordFile === undefined)) throw new RestartdError('USAGE', '--fleet-user and --fleet-password-file go together', { subject: '--fleet-user' });
  const password = readFlagFile('--fleet-password-file', args.passwordFile)?.toString('utf8').replace(/\r?\n$/, '');
  let semaphore: Semaphore;
  try {
    const EtcdSemaphore = await loadEtcdSemaphore();
    semaphore = await EtcdSemaphore.connect(
      { endpoints, ca: readFlagFile('--fleet-ca', args.ca), cert: readFlagFile('--fleet-cert', args.cert), key: readFlagFile('--fleet-key', args.key), user: args.user, password },
      fleet.leaseTtlSeconds,
    );
  } catch (error) {
    if (!(args.optional === true && error instanceof RestartdError && error.code === 'FLEET')) throw error;
    warn(`${error.message}; --fleet-optional: going on as a single host, without fleet slots`);
    return local();
  }
  return createFleetGate({ config: fleet, host, semaphore, slots, onWarning: warn });
}

/**
 * The etcd client, loaded on demand: a run without --fleet never loads it (nor gRPC), and it is an
 * optional dependency, so an install without it says which package --fleet needs.
 */
async function loadEtcdSemaphore(): Promise<(typeof import('./etcd-semaphore.js'))['EtcdSemaphore']> {
  try {
    return (await import('./etcd-semaphore.js')).EtcdSemaphore;
  } catch (error) {
    if (errnoCode(error) !== 'ERR_MODULE_NOT_FOUND' || !String(error).includes("'etcd3'")) throw error;
    throw new RestartdError('FLEET', "--fleet needs the etcd client, the npm package 'etcd3' (an optional dependency of restartd): install it next to restartd (npm install etcd3)", { subject: '--fleet', cause: error });
  }
}
