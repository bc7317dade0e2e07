import { Etcd3, type IOptions, type Lease, type Watcher } from 'etcd3';
import * as z from 'zod';
import { RestartdError } from '../errors.js';
import type { FleetHolder } from '../types/outcome.js';
import type { FleetRollbackRecord } from '../types/fleet.js';

/** How to reach etcd: endpoints, TLS material, auth (read from files by the caller). */
export interface FleetConnection {
  endpoints: string[];
  ca?: Buffer | undefined;
  cert?: Buffer | undefined;
  key?: Buffer | undefined;
  user?: string | undefined;
  password?: string | undefined;
  /** Deadline of each etcd call: a dead member must not stall a call for long (default 2000). */
  callTimeoutMs?: number | undefined;
}

/** Where the slots live: `/restartd/fleet/<group>/slots/<n>`, one key per slot, each bound to its holder's lease. */
export const FLEET_PREFIX = '/restartd/fleet/';

export function slotsPrefix(group: string): string {
  return `${FLEET_PREFIX}${encodeURIComponent(group)}/slots/`;
}

/** Where a host records a release it rolled back: `/restartd/fleet/<group>/rollbacks/<host>` (no lease: it stays until removed). */
export function rollbacksPrefix(group: string): string {
  return `${FLEET_PREFIX}${encodeURIComponent(group)}/rollbacks/`;
}

/** A rollback record, as a host wrote it. Read back from etcd: parsed, never trusted. */
const RollbackRecordSchema = z.object({
  host: z.string().min(1).max(256),
  new: z.string().min(1).max(4096),
  newTarget: z.string().min(1).max(4096),
  old: z.string().max(4096),
  reason: z.string().max(16_384),
  time: z.string().max(64),
});

/** A slot key's value, as a holder wrote it. Read back from etcd: parsed, never trusted. */
const SlotValueSchema = z.object({
  host: z.string().min(1).max(256),
  pid: z.number().int().positive(),
  unit: z.string().max(512),
  since: z.string().max(64),
});
export type SlotValue = z.infer<typeof SlotValueSchema>;

export interface AcquireOptions {
  slots: number;
  value: SlotValue;
  /** Give up after this long (the slots stayed taken, or etcd stayed unreachable). */
  waitTimeoutMs: number;
  /** Called with the holders when every slot is taken, and again when they change. */
  onWait?: ((holders: FleetHolder[]) => void) | undefined;
  /** Called when the holder's lease is lost (etcd unreachable for longer than its TTL). */
  onLost?: ((message: string) => void) | undefined;
}

/** A slot held under a lease; `release` deletes it and revokes the lease, and never throws. */
export interface HeldSlot {
  slot: number;
  release(): Promise<void>;
}

// Between watch events, look again this often: a watch stream cut by a dying member may miss one.
const RECHECK_MS = 2000;
// A call that failed for a recoverable reason is tried again after this long.
const RETRY_MS = 300;
// etcd unreachable this long while waiting: give up (the run reports FLEET_UNAVAILABLE).
const UNREACHABLE_MS = 20_000;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A counting semaphore per group over etcd: K slot keys per group, each taken with a transaction
 * that succeeds only while the key does not exist (`createRevision == 0`), written with the
 * holder's lease. A holder that dies stops its keepalives and the lease expires after its TTL,
 * deleting the key. Waiting hosts watch the group's prefix for deletes (and look again every few
 * seconds, in case a watch stream is cut); nothing busy-polls.
 */
export class EtcdSemaphore {
  private constructor(
    private readonly client: Etcd3,
    private readonly endpoints: string[],
    private readonly ttlSeconds: number,
  ) {}

  /**
   * Connects and checks that etcd answers (one read of the fleet prefix). Throws
   * RestartdError('FLEET') naming every endpoint when it does not.
   */
  static async connect(connection: FleetConnection, ttlSeconds: number): Promise<EtcdSemaphore> {
    const callTimeoutMs = connection.callTimeoutMs ?? 2000;
    const options: IOptions = {
      hosts: connection.endpoints,
      dialTimeout: callTimeoutMs,
      // Per-call deadlines (streams excepted): a call stuck on a dead member fails over in seconds.
      defaultCallOptions: (context) => (context.isStream ? {} : { deadline: new Date(Date.now() + callTimeoutMs) }),
    };
    if (connection.ca !== undefined) {
      options.credentials = {
        rootCertificate: connection.ca,
        ...(connection.key === undefined ? {} : { privateKey: connection.key }),
        ...(connection.cert === undefined ? {} : { certChain: connection.cert }),
      };
    }
    if (connection.user !== undefined) options.auth = { username: connection.user, password: connection.password ?? '' };
    const client = new Etcd3(options);
    try {
      await client.get(`${FLEET_PREFIX}.ping`).exec();
    } catch (error) {
      client.close();
      throw unreachable(connection.endpoints, error);
    }
    return new EtcdSemaphore(client, connection.endpoints, ttlSeconds);
  }

  /** Waits for one of `slots` slots of `group`; throws RestartdError('FLEET') when none can be had. */
  async acquire(group: string, options: AcquireOptions): Promise<HeldSlot> {
    const prefix = slotsPrefix(group);
    const deadline = Date.now() + options.waitTimeoutMs;
    const value = JSON.stringify(options.value);
    let lease: Lease | undefined;
    let watcher: Watcher | undefined;
    let watching: Promise<void> | undefined;
    let done = false;
    let wake: () => void = () => {};
    let failingSince: number | undefined;
    let lastHolders = '';
    const dropLease = (): void => {
      lease?.removeAllListeners();
      void lease?.revoke().catch(() => {});
      lease = undefined;
    };
    try {
      for (;;) {
        if (Date.now() >= deadline) {
          throw new RestartdError('FLEET', `no slot of group ${group} came free in ${Math.round(options.waitTimeoutMs / 1000)} s (held by ${lastHolders || 'unknown hosts'})`, { subject: group });
        }
        try {
          if (lease === undefined || lease.revoked()) {
            lease = this.client.lease(this.ttlSeconds);
            await lease.grant();
          }
          // Watch first, then try: a slot freed after the tries wakes the wait below. A watch is a
          // stream (no deadline): while etcd does not answer, the timed look-again stands in for it.
          watching ??= this.client
            .watch()
            .prefix(prefix)
            .create()
            .then((created) => {
              if (done) return void created.cancel().catch(() => {});
              watcher = created;
              created.on('delete', () => wake());
            })
            .catch(() => {
              watching = undefined;
            });
          await Promise.race([watching, sleep(RETRY_MS * 3)]);
          for (let slot = 0; slot < options.slots; slot++) {
            const key = `${prefix}${slot}`;
            const taken = await this.client.if(key, 'Create', '==', 0).then(lease.put(key).value(value)).commit();
            if (taken.succeeded) {
              const held = lease;
              lease = undefined;
              held.on('lost', (error) => options.onLost?.(`the lease of fleet slot ${group}/${slot} was lost (${error.message}): another host may take the slot`));
              return { slot, release: () => this.release(key, held) };
            }
          }
          const holders = await this.holders(group);
          failingSince = undefined;
          const seen = holders.map((h) => `${h.host}#${h.slot}`).join(', ');
          if (seen !== lastHolders) {
            lastHolders = seen;
            options.onWait?.(holders);
          }
        } catch (error) {
          if (error instanceof RestartdError) throw error;
          failingSince ??= Date.now();
          if (Date.now() - failingSince > UNREACHABLE_MS) throw unreachable(this.endpoints, error);
          // A lease whose grant failed is of no use: grant a new one next time.
          dropLease();
          await sleep(RETRY_MS);
          continue;
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.min(RECHECK_MS, Math.max(0, deadline - Date.now())));
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = () => {};
      }
    } finally {
      done = true;
      if (watcher !== undefined) void watcher.cancel().catch(() => {});
      dropLease();
    }
  }

  /** Who holds the group's slots now (entries that do not parse are left out). */
  async holders(group: string): Promise<FleetHolder[]> {
    const prefix = slotsPrefix(group);
    const values = await this.client.getAll().prefix(prefix).strings();
    const holders: FleetHolder[] = [];
    for (const [key, text] of Object.entries(values)) {
      const slot = Number(key.slice(prefix.length));
      let parsed;
      try {
        parsed = SlotValueSchema.safeParse(JSON.parse(text));
      } catch {
        continue;
      }
      if (parsed.success && Number.isInteger(slot)) holders.push({ host: parsed.data.host, slot, unit: parsed.data.unit, since: parsed.data.since });
    }
    return holders.sort((a, b) => a.slot - b.slot);
  }

  /** Records this host's rollback under the group (overwrites its earlier one). */
  async recordRollback(group: string, record: FleetRollbackRecord): Promise<void> {
    await this.client.put(`${rollbacksPrefix(group)}${encodeURIComponent(record.host)}`).value(JSON.stringify(record)).exec();
  }

  /** The rollbacks recorded under the group (entries that do not parse are left out). */
  async rollbacks(group: string): Promise<FleetRollbackRecord[]> {
    const values = await this.client.getAll().prefix(rollbacksPrefix(group)).strings();
    const records: FleetRollbackRecord[] = [];
    for (const text of Object.values(values)) {
      try {
        const parsed = RollbackRecordSchema.safeParse(JSON.parse(text));
        if (parsed.success) records.push(parsed.data);
      } catch {
        // not JSON: not a record restartd wrote
      }
    }
    return records;
  }

  async close(): Promise<void> {
    this.client.close();
  }

  private async release(key: string, lease: Lease): Promise<void> {
    lease.removeAllListeners();
    // Revoking the lease deletes the key with it; if etcd cannot be reached, the lease expires.
    try {
      await this.client.delete().key(key).exec();
    } catch {
      // the revoke below, or the TTL, frees it
    }
    try {
      await lease.revoke();
    } catch {
      // expires after its TTL
    }
  }
}

function unreachable(endpoints: readonly string[], error: unknown): RestartdError {
  const why = error instanceof Error ? error.message : String(error);
  return new RestartdError('FLEET', `etcd unreachable at ${endpoints.join(', ')}: ${why}`, { cause: error, subject: endpoints.join(',') });
}
