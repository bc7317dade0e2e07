// The one file that imports dbus-next: swapping the D-Bus library is a change here alone.
import { DBusError, Message, MessageFlag, MessageType, sessionBus, Variant, type MessageBus } from 'dbus-next';
import { RestartdError } from '../errors.js';
import { resolveBusAddress } from './bus-address.js';
import { JobTracker } from './job-tracker.js';
import { findManagerProcess, managerPidOf, type InvocationProbe } from './manager-process.js';
import type { DesktopNotification, Job, JobCompletion, JobMethod, LiveUnitFacts, ManagerProcess, SystemdManager, UnitState } from '../types/systemd.js';
import { readUnitKeys } from './unit-file-read.js';

export { resolveBusAddress };

const SYSTEMD = 'org.freedesktop.systemd1';
const MANAGER_PATH = '/org/freedesktop/systemd1';
const MANAGER = 'org.freedesktop.systemd1.Manager';
const UNIT = 'org.freedesktop.systemd1.Unit';
const SERVICE = 'org.freedesktop.systemd1.Service';
const PROPERTIES = 'org.freedesktop.DBus.Properties';

export interface ConnectOptions {
  /** D-Bus address; default DBUS_SYSTEM_BUS_ADDRESS, else the standard system bus socket. */
  busAddress?: string | undefined;
  /** Answer time for one method call (not for jobs: see waitForJob). Default 25 s, as D-Bus'. */
  callTimeoutMs?: number;
  /** The manager's process, when known; by default it is found through /proc (null: don't look). */
  managerProcess?: ManagerProcess | null;
  /** The uid systemd must run as on this bus (a user's manager): any other owner of its name is refused. */
  managerUid?: number;
  /**
   * The address is the manager's private socket (`/run/user/UID/systemd/private`): peer-to-peer
   * D-Bus, no bus daemon, so no Hello, no AddMatch, no name to ask the owner of. systemd accepts a
   * private connection only from root and from the uid it runs as (it checks the peer's credentials).
   */
  peerToPeer?: boolean;
  /** Where the manager's unit files are read (a prefix, maybe relative to the cwd); default its process's root. */
  filesRoot?: string;
}

type Props = Record<string, Variant | undefined>;

// How long a lost connection is tried again before what is in flight is given up as unknown.
const RECONNECT_MS = 15_000;


/**
 * Connects to systemd over D-Bus and subscribes to its job signals (systemd sends JobRemoved
 * only to subscribed clients). Throws RestartdError BUS when the bus can't be reached.
 */
export async function connectSystemd(options: ConnectOptions = {}): Promise<SystemdManager> {
  const busAddress = resolveBusAddress(options.busAddress);
  const peerToPeer = options.peerToPeer === true;
  const bus = openBus(busAddress, peerToPeer);
  const manager = new DbusSystemdManager(bus, busAddress, options.callTimeoutMs ?? 25_000, peerToPeer, options.filesRoot);
  try {
    await manager.open(options.managerProcess, options.managerUid);
  } catch (error) {
    manager.close();
    throw error;
  }
  return manager;
}

const NOTIFICATIONS = 'org.freedesktop.Notifications';

/**
 * Sends one desktop notification (org.freedesktop.Notifications.Notify) on the bus at `busAddress`
 * (`busName` in messages), over a connection of its own that ends with the call; resolves with the
 * server's id for it.
 * Throws RestartdError BUS when the bus or its notification server is not there, or after `timeoutMs`.
 */
export async function sendDesktopNotification(busAddress: string, notification: DesktopNotification, busName = busAddress): Promise<number> {
  const { timeoutMs } = notification;
  const bus = sessionBus({ busAddress, authMethods: ['EXTERNAL'] });
  let timer: NodeJS.Timeout | undefined;
  const failed = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RestartdError('BUS', `Notify on ${busName}: no answer after ${timeoutMs} ms`, { subject: busName })), timeoutMs);
    bus.on('error', (error: unknown) => reject(new RestartdError('BUS', `no session bus at ${busName} (${(error as NodeJS.ErrnoException).code ?? String(error)})`, { cause: error, subject: busName })));
  });
  // An error after the answer (the connection closing) must not go unhandled.
  failed.catch(() => undefined);
  const message = new Message({
    destination: NOTIFICATIONS,
    path: '/org/freedesktop/Notifications',
    interface: NOTIFICATIONS,
    member: 'Notify',
    signature: 'susssasa{sv}i',
    // No replaced id, no icon, no actions; normal urgency; the server's own expiry.
    body: [notification.appName, 0, '', notification.summary, notification.body, [], { urgency: new Variant('y', 1) }, -1],
  });
  try {
    const reply = await Promise.race([bus.call(message), failed]);
    const [id] = (reply?.body ?? []) as [unknown];
    if (typeof id !== 'number') throw new RestartdError('BUS', `Notify on ${busName}: the answer is not a notification id`, { subject: busName });
    return id;
  } catch (error) {
    if (error instanceof DBusError) {
      const why = error.type === 'org.freedesktop.DBus.Error.ServiceUnknown' ? 'no notification server on the session bus' : `${error.text || error.type} (${error.type})`;
      throw new RestartdError('BUS', `Notify on ${busName}: ${why}`, { cause: error, subject: busName });
    }
    throw error;
  } finally {
    clearTimeout(timer);
    bus.disconnect();
  }
}

class DbusSystemdManager implements SystemdManager {
  process: ManagerProcess | undefined;
  private readonly jobs = new JobTracker();
  private broken: Error | undefined;
  /** The first connection answered: a later error loses it, an earlier one means it failed. */
  private established = false;
  /** A user's manager: the uid its bus connection must belong to (checked again on every reconnect). */
  private managerUid: number | undefined;
  // Calls in flight fail at once when the connection does (dbus-next would leave them pending).
  private readonly inFlight = new Set<(error: Error) => void>();

  constructor(
    private bus: MessageBus,
    readonly busAddress: string,
    private readonly callTimeoutMs: number,
    private readonly peerToPeer = false,
    private readonly filesRoot?: string,
  ) {
    this.attach(bus);
  }

  /** Listens to one connection; what an older, replaced connection says is ignored. */
  private attach(bus: MessageBus): void {
    const lose = (error: unknown): void => {
      if (this.bus !== bus || this.broken !== undefined) return;
      const why = (error as NodeJS.ErrnoException | undefined)?.code ?? (error instanceof Error ? error.message : undefined);
      this.broken = new RestartdError('BUS', `D-Bus connection to ${this.busAddress} ${this.established ? 'lost' : 'failed'}${why === undefined ? '' : ` (${why})`}`, { cause: error, subject: this.busAddress });
      this.jobs.failAll(this.broken);
      for (const fail of this.inFlight) fail(this.broken);
    };
    bus.on('error', lose);
    // dbus-next reports a closed socket on its connection only: calls would wait for ever.
    (bus as unknown as { _connection?: { on(event: 'end', listener: () => void): void } })._connection?.on('end', () => lose(new Error('the bus closed the connection')));
    // Raw messages: a JobRemoved is seen here in arrival order, possibly before the reply naming its job.
    bus.on('message', (msg: Message) => {
      if (msg.type === MessageType.SIGNAL && msg.interface === MANAGER && msg.member === 'JobRemoved') {
        const [, job, , result] = msg.body as [number, string, string, string];
        this.jobs.removed(job, result);
      }
    });
  }

  /**
   * After the connection was lost (dbus-daemon restarted, systemd re-executed): a fresh one,
   * subscribed again, tried until `timeoutMs` has passed. Does nothing while the connection is up.
   */
  async reconnect(timeoutMs = RECONNECT_MS): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (this.broken !== undefined) {
      const lost = this.broken;
      const bus = openBus(this.busAddress, this.peerToPeer);
      const old = this.bus;
      this.bus = bus;
      this.broken = undefined;
      this.attach(bus);
      try {
        old.disconnect();
      } catch {
        // Already closed.
      }
      try {
        await this.listen();
        return;
      } catch (error) {
        this.broken ??= lost;
        if (performance.now() > deadline) {
          throw new RestartdError('BUS', `${lost.message}; no new connection within ${timeoutMs} ms (${error instanceof Error ? error.message : String(error)})`, { cause: error, subject: this.busAddress });
        }
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
  }

  async open(known: ManagerProcess | null | undefined, managerUid?: number): Promise<void> {
    this.managerUid = managerUid;
    await this.listen();
    this.established = true;
    this.process = known === null ? undefined : (known ?? findManagerProcess(await this.invocationProbes()));
  }

  /** JobRemoved reaches only subscribed clients that match it. */
  private async listen(): Promise<void> {
    // A private connection: systemd sends it every signal, and it is the manager's own socket.
    if (this.peerToPeer) return this.subscribe();
    if (this.managerUid !== undefined) await this.checkOwner(this.managerUid);
    await this.call(
      '/org/freedesktop/DBus', 'org.freedesktop.DBus', 'AddMatch', 's',
      [`type='signal',sender='${SYSTEMD}',path='${MANAGER_PATH}',interface='${MANAGER}',member='JobRemoved'`],
      { destination: 'org.freedesktop.DBus' },
    );
    await this.subscribe();
  }

  // A user's bus socket is the user's to replace: it may lead to another manager (the system's).
  private async checkOwner(expected: number): Promise<void> {
    const [uid] = (await this.call('/org/freedesktop/DBus', 'org.freedesktop.DBus', 'GetConnectionUnixUser', 's', [SYSTEMD], { destination: 'org.freedesktop.DBus' })) as [unknown];
    if (uid !== expected) {
      throw new RestartdError('BUS', `${SYSTEMD} on ${this.busAddress} runs as uid ${String(uid)}, not ${expected}: not that user's manager`, { subject: this.busAddress });
    }
  }

  private async subscribe(): Promise<void> {
    try {
      await this.call(MANAGER_PATH, MANAGER, 'Subscribe');
    } catch (error) {
      if (!(error instanceof RestartdError && /AlreadySubscribed/.test(String(error.message)))) throw error;
    }
  }

  async unitFacts(unit: string): Promise<LiveUnitFacts> {
    const [path] = (await this.call(MANAGER_PATH, MANAGER, 'LoadUnit', 's', [unit], { subject: unit })) as [string];
    const props = await this.getAll(path, UNIT, unit);
    const service = unit.endsWith('.service') ? await this.getAll(path, SERVICE, unit) : {};
    const fragmentPath = str(props['FragmentPath']);
    const dropInPaths = strs(props['DropInPaths']);
    const controlGroup = str(service['ControlGroup']);
    const facts: LiveUnitFacts = {
      name: str(props['Id']) ?? unit,
      loadState: str(props['LoadState']) ?? 'unknown',
      activeState: str(props['ActiveState']) ?? 'unknown',
      mainPid: num(service['MainPID']),
      ...(fragmentPath === undefined ? {} : { fragmentPath }),
      dropInPaths,
      refuseManualStop: props['RefuseManualStop']?.value === true,
      refuseManualStart: props['RefuseManualStart']?.value === true,
      canStart: props['CanStart']?.value === true,
      canStop: props['CanStop']?.value === true,
      canReload: props['CanReload']?.value === true,
      partOf: strs(props['PartOf']),
      bindsTo: strs(props['BindsTo']),
      consistsOf: strs(props['ConsistsOf']),
      boundBy: strs(props['BoundBy']),
      pullsIn: [...new Set([...strs(props['Wants']), ...strs(props['Requires']), ...strs(props['Upholds'])])].sort(),
      triggeredBy: strs(props['TriggeredBy']),
      unitFileChanged: props['NeedDaemonReload']?.value === true,
      ...(controlGroup === undefined ? {} : { controlGroup }),
    };
    // The X- keys are not on the bus: read the unit's files where the manager sees them.
    const { keys, warnings } = await readUnitKeys(fragmentPath, dropInPaths, { rootPrefix: this.filesRoot ?? this.process?.rootPrefix ?? '' });
    // The bus's RefuseManualStop/Start are the ones in effect (the files' may not be loaded yet).
    const { refuseManualStop: _stopFromFiles, refuseManualStart: _startFromFiles, ...xKeys } = keys;
    Object.assign(facts, xKeys);
    if (warnings.length > 0) facts.fileWarnings = warnings.map((w) => `${w.file}${w.line === undefined ? '' : `:${w.line}`}: ${w.message}`);
    return facts;
  }

  toManagerPid(pid: number): number | undefined {
    return this.process === undefined ? pid : managerPidOf(this.process, pid);
  }

  async unitByPid(pid: number): Promise<string | undefined> {
    const managerPid = this.toManagerPid(pid);
    if (managerPid === undefined) return undefined;
    let path: string;
    try {
      [path] = (await this.call(MANAGER_PATH, MANAGER, 'GetUnitByPID', 'u', [managerPid], { subject: `pid ${pid}` })) as [string];
    } catch (error) {
      if (error instanceof RestartdError && error.cause instanceof DBusError && /NoUnitForPID|NoSuchProcess/.test(error.cause.type)) return undefined;
      throw error;
    }
    return str(await this.get(path, UNIT, 'Id', `pid ${pid}`));
  }

  async unitState(unit: string): Promise<UnitState> {
    const [path] = (await this.call(MANAGER_PATH, MANAGER, 'LoadUnit', 's', [unit], { subject: unit })) as [string];
    const props = await this.getAll(path, UNIT, unit);
    const service = unit.endsWith('.service') ? await this.getAll(path, SERVICE, unit) : {};
    const id = props['InvocationID']?.value as Buffer | undefined;
    return {
      activeState: str(props['ActiveState']) ?? 'unknown',
      subState: str(props['SubState']) ?? 'unknown',
      type: str(service['Type']) ?? '',
      result: str(service['Result']) ?? '',
      execMainCode: num(service['ExecMainCode']),
      execMainStatus: num(service['ExecMainStatus']),
      nRestarts: num(service['NRestarts']),
      invocationId: id === undefined ? '' : Buffer.from(id).toString('hex').replace(/^0+$/, ''),
      mainPid: num(service['MainPID']),
      execMainStartUs: num(service['ExecMainStartTimestampMonotonic']),
      stateChangeUs: num(props['StateChangeTimestampMonotonic']),
      ...jobOf(props['Job']),
    };
  }

  async resetFailed(unit: string): Promise<void> {
    try {
      await this.call(MANAGER_PATH, MANAGER, 'ResetFailedUnit', 's', [unit], { subject: unit });
    } catch (error) {
      // Nothing to reset on a unit that is not loaded.
      if (!(error instanceof RestartdError && error.cause instanceof DBusError && /NoSuchUnit/.test(error.cause.type))) throw error;
    }
  }

  restart = (unit: string): Promise<Job> => this.queue('RestartUnit', unit);
  reload = (unit: string): Promise<Job> => this.queue('ReloadUnit', unit);
  stop = (unit: string): Promise<Job> => this.queue('StopUnit', unit);
  start = (unit: string): Promise<Job> => this.queue('StartUnit', unit);

  waitForJob(job: Job, timeoutMs: number): Promise<JobCompletion> {
    if (this.broken) return Promise.reject(this.broken);
    return this.jobs.wait(job, timeoutMs);
  }

  async daemonReload(): Promise<void> {
    // systemd replies once the reload is complete.
    await this.call(MANAGER_PATH, MANAGER, 'Reload', '', [], { timeoutMs: Math.max(this.callTimeoutMs, 90_000) });
  }

  async reexecute(timeoutMs = 60_000): Promise<void> {
    // systemd does not reply: the bus answers NoReply when the old manager disconnects (a private
    // connection just ends). Any other error (access denied, ...) means it did not re-execute.
    await this.call(MANAGER_PATH, MANAGER, 'Reexecute', '', [], { timeoutMs }).catch((error: unknown) => {
      if (this.peerToPeer && error === this.broken) return;
      if (!(error instanceof RestartdError && error.cause instanceof DBusError && /NoReply|Disconnected/.test(error.cause.type))) throw error;
    });
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      try {
        // The re-executed manager keeps its private socket listening: a new connection waits for it.
        if (this.peerToPeer) await this.reconnect(2000);
        await this.get(MANAGER_PATH, MANAGER, 'Version', 'manager', 2000);
        break;
      } catch (error) {
        if (performance.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    await this.subscribe();
  }

  close(): void {
    this.jobs.failAll(new RestartdError('BUS', `connection to ${this.busAddress} closed`, { subject: this.busAddress }));
    this.bus.disconnect();
  }

  private async queue(method: JobMethod, unit: string): Promise<Job> {
    const queuedAt = performance.now();
    const [path] = (await this.call(MANAGER_PATH, MANAGER, method, 'ss', [unit, 'replace'], { subject: unit })) as [string];
    return { path, unit, method, queuedAt, repliedAt: performance.now() };
  }

  /** A few units' invocation IDs, to recognise the manager's process by what it wrote to its /run. */
  private async invocationProbes(): Promise<InvocationProbe[]> {
    const [units] = (await this.call(MANAGER_PATH, MANAGER, 'ListUnitsByPatterns', 'asas', [['active'], ['*.service']])) as [string[][]];
    const probes: InvocationProbe[] = [];
    for (const [name, , , , , , path] of units.slice(0, 3)) {
      if (name === undefined || path === undefined) continue;
      const id = (await this.get(path, UNIT, 'InvocationID', name)) as Variant<Buffer> | undefined;
      const hex = id ? Buffer.from(id.value).toString('hex') : '';
      if (/[^0]/.test(hex)) probes.push({ unit: name, invocationId: hex });
    }
    return probes;
  }

  private async getAll(path: string, iface: string, subject: string): Promise<Props> {
    const [props] = (await this.call(path, PROPERTIES, 'GetAll', 's', [iface], { subject })) as [Props];
    return props;
  }

  private async get(path: string, iface: string, name: string, subject: string, timeoutMs?: number): Promise<Variant | undefined> {
    const [value] = (await this.call(path, PROPERTIES, 'Get', 'ss', [iface, name], { subject, ...(timeoutMs === undefined ? {} : { timeoutMs }) })) as [Variant];
    return value;
  }

  private async call(
    path: string,
    iface: string,
    member: string,
    signature = '',
    body: unknown[] = [],
    options: { subject?: string; destination?: string; timeoutMs?: number } = {},
  ): Promise<unknown[]> {
    if (this.broken) throw this.broken;
    const subject = options.subject ?? this.busAddress;
    const timeoutMs = options.timeoutMs ?? this.callTimeoutMs;
    const message = new Message({ destination: options.destination ?? SYSTEMD, path, interface: iface, member, signature, body });
    let timer: NodeJS.Timeout | undefined;
    let fail: ((error: Error) => void) | undefined;
    const failed = new Promise<never>((_, reject) => {
      fail = reject;
      this.inFlight.add(reject);
      timer = setTimeout(() => reject(new RestartdError('BUS', `${member} (${subject}): no answer on ${this.busAddress} after ${timeoutMs} ms`, { subject })), timeoutMs);
    });
    try {
      const reply = await Promise.race([this.bus.call(message), failed]);
      return reply?.body ?? [];
    } catch (error) {
      if (error instanceof DBusError) {
        throw new RestartdError('SYSTEMD', `${member} ${subject}: ${error.text || error.type} (${error.type})`, { cause: error, subject });
      }
      if (error instanceof RestartdError) throw error;
      throw new RestartdError('BUS', `${member} (${subject}) on ${this.busAddress} failed`, { cause: error, subject });
    } finally {
      clearTimeout(timer);
      if (fail) this.inFlight.delete(fail);
    }
  }
}

function openBus(busAddress: string, peerToPeer: boolean): MessageBus {
  const bus = sessionBus({ busAddress, authMethods: ['EXTERNAL'] });
  if (peerToPeer) {
    withoutHello(bus, busAddress);
    nudgeUntilAnswered(bus);
  }
  return bus;
}

// systemd (seen with 252) may leave a message that came in right behind the handshake unread until
// more data arrives: until its first answer, a private connection is nudged with a Ping that wants none.
function nudgeUntilAnswered(bus: MessageBus): void {
  const stream = (bus as unknown as { _connection?: { stream?: { writable?: boolean } } })._connection?.stream;
  const ping = new Message({ destination: SYSTEMD, path: MANAGER_PATH, interface: 'org.freedesktop.DBus.Peer', member: 'Ping', flags: MessageFlag.NO_REPLY_EXPECTED });
  const timer = setInterval(() => {
    if (stream?.writable === true) bus.send(ping);
    else stop();
  }, 200);
  timer.unref();
  const stop = (): void => clearInterval(timer);
  bus.once('message', stop);
  bus.once('error', stop);
}

// dbus-next always says Hello to the bus (queued until the socket connects); a peer has no bus and
// answers it with an error, which dbus-next reports as the connection's. Taken off the queue unsent.
function withoutHello(bus: MessageBus, busAddress: string): void {
  const internals = bus as unknown as { _connection?: { _messages?: Message[] }; _methodReturnHandlers?: Record<number, unknown> };
  const queued = internals._connection?._messages;
  const at = queued?.findIndex((m) => m.member === 'Hello' && m.destination === 'org.freedesktop.DBus') ?? -1;
  const hello = queued?.[at];
  if (queued === undefined || hello === undefined || internals._methodReturnHandlers === undefined) {
    bus.disconnect();
    throw new RestartdError('BUS', `cannot talk peer-to-peer to ${busAddress}: this dbus-next does not queue its Hello as expected`, { subject: busAddress });
  }
  queued.splice(at, 1);
  delete internals._methodReturnHandlers[hello.serial ?? -1];
}

/**
 * Whether a failed connect found nobody there (no socket, nobody listening, the manager not on
 * the bus): another way in (the private socket) may still reach the manager. By the error's
 * errno or D-Bus error name, never its text.
 */
export function isUnreachable(error: unknown): boolean {
  if (!(error instanceof RestartdError)) return false;
  const cause: unknown = error.cause;
  if (cause instanceof DBusError) return cause.type === 'org.freedesktop.DBus.Error.NameHasNoOwner' || cause.type === 'org.freedesktop.DBus.Error.ServiceUnknown';
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ECONNREFUSED';
}

/** A unit's Job property, (id, path): id 0 when none is queued. */
function jobOf(value: Variant | undefined): { jobPath?: string } {
  const [id, path] = Array.isArray(value?.value) ? (value.value as unknown[]) : [];
  return typeof id === 'number' && id > 0 && typeof path === 'string' ? { jobPath: path } : {};
}

function str(value: Variant | undefined): string | undefined {
  return typeof value?.value === 'string' && value.value !== '' ? value.value : undefined;
}

function strs(value: Variant | undefined): string[] {
  return Array.isArray(value?.value) ? (value.value as unknown[]).filter((v): v is string => typeof v === 'string') : [];
}

function num(value: Variant | undefined): number {
  const v: unknown = value?.value;
  return typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : 0;
}
