import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, lstatSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RestartdError } from '../errors.js';
import type { UserAccount } from './user-account.js';
import type { DesktopNotification, Job, JobCompletion, LiveUnitFacts, ManagerProcess, UnitState, UserManagerState, UserSystemdManager } from '../types/systemd.js';
import { AnswerSchema, HelloSchema, MAX_LINE_BYTES, VALUE_SCHEMAS, type ChildArgs, type ChildRequest, type Hello } from './user-manager-protocol.js';
import { managerPidOf } from './manager-process.js';

const CHILD = new URL('./user-manager-child.js', import.meta.url);
// Run from the sources (the tests), the child is the built one.
const BUILT_CHILD = new URL('../../dist/systemd/user-manager-child.js', import.meta.url);

function childScript(): string {
  const beside = fileURLToPath(CHILD);
  return existsSync(beside) ? beside : fileURLToPath(BUILT_CHILD);
}
/** Beyond the child's own call timeout: its answer may be slow to come through the pipe. */
const MARGIN_MS = 5000;

export interface OpenUserManagerOptions {
  account: UserAccount;
  /**
   * The root dir of the user's manager as root reaches it: `/`, or `/proc/PID/root` of the manager
   * (or of the system manager it runs under). The child's cwd: the runtime dir, the bus and the
   * unit files are reached relative to it.
   */
  root: string;
  /**
   * The user manager's process here, when known: a manager in another PID namespace (a container)
   * refuses a private connection from a peer it cannot see, so the child is started in its namespace.
   */
  managerHostPid?: number;
  /** The system manager's process (the user manager lives in its namespaces). */
  process: ManagerProcess | undefined;
  callTimeoutMs: number;
  /** What the system manager and the sockets said (user-manager-facts.ts), for the reason when the child can't reach the manager. */
  facts?: string;
  /** The child's script (tests give a misbehaving one); default user-manager-child.js. */
  childScript?: string;
}

type Request = ChildRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

/**
 * Reaches one user's manager: a child (user-manager-child.ts) started in the manager's root dir
 * with a clean environment drops to the user's uid, gid and groups and talks to the user bus (or
 * the manager's private socket). A
 * runtime dir that is missing, not a directory or not the user's means the manager is absent.
 */
export async function openUserManager(options: OpenUserManagerOptions): Promise<UserManagerState> {
  const { account } = options;
  const runtimeDir = join(options.root, 'run', 'user', String(account.uid));
  const absent = (reason: string): UserManagerState => ({ state: 'absent', uid: account.uid, name: account.name, reason });
  try {
    const dir = lstatSync(runtimeDir);
    if (!dir.isDirectory() || dir.uid !== account.uid) return absent(`/run/user/${account.uid} is not ${account.name}'s runtime dir`);
  } catch {
    return absent(`the user manager of ${account.name} (uid ${account.uid}) is not running: no /run/user/${account.uid}`);
  }
  const args: ChildArgs = { uid: account.uid, gid: account.gid, name: account.name, callTimeoutMs: options.callTimeoutMs };
  const command = [process.execPath, options.childScript ?? childScript(), JSON.stringify(args)];
  // nsenter(1) (util-linux) forks the child into that PID namespace; no other namespace is entered.
  const [file, ...argv] = inOtherPidNamespace(options.managerHostPid) ? ['nsenter', `--target=${options.managerHostPid}`, '--pid', '--', ...command] : command;
  const child = spawn(file ?? process.execPath, argv, {
    cwd: options.root,
    // Nothing of ours is inherited: the user's own session variables, and nothing else.
    env: { XDG_RUNTIME_DIR: `/run/user/${account.uid}`, HOME: account.home, USER: account.name, LOGNAME: account.name, PATH: '/usr/bin:/bin', LANG: 'C.UTF-8' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const manager = new ChildUserManager(child, account, options);
  const hello = await manager.hello(options.callTimeoutMs + MARGIN_MS);
  if (hello.ready && hello.uid === account.uid && hello.gid === account.gid) return { state: 'running', uid: account.uid, name: account.name, manager };
  manager.close();
  if (hello.ready) return absent(`the child for ${account.name} runs as uid ${hello.uid} gid ${hello.gid}, not ${account.uid}/${account.gid}`);
  const who = `the user manager of ${account.name} (uid ${account.uid})`;
  const facts = options.facts === undefined ? '' : ` (${options.facts})`;
  return absent(hello.absent ? `${who} answers on none of its sockets${facts}: ${hello.message}` : `${who} did not answer${facts}: ${hello.message}`);
}

function inOtherPidNamespace(pid: number | undefined): pid is number {
  if (pid === undefined) return false;
  try {
    return readlinkSync(`/proc/${pid}/ns/pid`) !== readlinkSync('/proc/self/ns/pid');
  } catch {
    return false;
  }
}

class ChildUserManager implements UserSystemdManager {
  readonly busAddress: string;
  private nextId = 1;
  private buffered = '';
  private broken: RestartdError | undefined;
  private stderr = '';
  private readonly pending = new Map<number, { op: ChildRequest['op']; resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  private helloWaiter: ((hello: Hello) => void) | undefined;

  constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    private readonly account: UserAccount,
    private readonly options: OpenUserManagerOptions,
  ) {
    this.busAddress = `unix:path=/run/user/${account.uid}/bus`;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => this.read(chunk));
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      if (this.stderr.length < 4096) this.stderr += chunk.slice(0, 4096 - this.stderr.length);
    });
    child.on('error', (error) => this.fail(`could not start the child for ${account.name}: ${error.message}`));
    child.on('exit', (code, signal) => this.fail(`the child for ${account.name} exited (${signal ?? code})${this.stderr === '' ? '' : `: ${this.stderr.trim()}`}`));
    child.stdin.on('error', () => undefined);
  }

  get process(): ManagerProcess | undefined {
    return this.options.process;
  }

  hello(timeoutMs: number): Promise<Hello> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.fail(`no answer after ${timeoutMs} ms`), timeoutMs);
      this.helloWaiter = (hello) => {
        clearTimeout(timer);
        resolve(hello);
      };
    });
  }

  private read(chunk: string): void {
    this.buffered += chunk;
    // A line is bounded whether its end came in this chunk or is still to come.
    for (let end = this.buffered.indexOf('\n'); end >= 0; end = this.buffered.indexOf('\n')) {
      if (end > MAX_LINE_BYTES) break;
      const line = this.buffered.slice(0, end);
      this.buffered = this.buffered.slice(end + 1);
      this.answer(line);
    }
    if (this.buffered.length > MAX_LINE_BYTES) void this.fail(`the child for ${this.account.name} sent a line over ${MAX_LINE_BYTES} bytes`);
  }

  private answer(line: string): void {
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      void this.fail(`the child for ${this.account.name} sent a line that is not JSON`);
      return;
    }
    if (this.helloWaiter !== undefined) {
      const hello = HelloSchema.safeParse(json);
      const waiter = this.helloWaiter;
      this.helloWaiter = undefined;
      return waiter(hello.success ? hello.data : { ready: false, absent: false, message: 'its first line is not a greeting' });
    }
    const answer = AnswerSchema.safeParse(json);
    const waiting = answer.success ? this.pending.get(answer.data.id) : undefined;
    if (!answer.success || waiting === undefined) {
      void this.fail(`the child for ${this.account.name} sent an answer nobody asked for`);
      return;
    }
    this.pending.delete(answer.data.id);
    if (!answer.data.ok) return waiting.reject(new RestartdError(answer.data.code, answer.data.message, { subject: this.busAddress }));
    const value = VALUE_SCHEMAS[waiting.op].safeParse(answer.data.value);
    if (!value.success) return waiting.reject(this.fail(`the child for ${this.account.name} answered ${waiting.op} with something else: ${value.error.issues[0]?.message ?? ''}`));
    waiting.resolve(value.data);
  }

  /** Ends the child: every call in flight and after fails with the reason. */
  private fail(reason: string): RestartdError {
    this.broken ??= new RestartdError('BUS', `user manager of uid ${this.account.uid}: ${reason}`, { subject: this.busAddress });
    this.helloWaiter?.({ ready: false, absent: false, message: reason });
    this.helloWaiter = undefined;
    for (const { reject } of this.pending.values()) reject(this.broken);
    this.pending.clear();
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    // Behind nsenter the child is a grandchild: its stdin ending ends it.
    this.child.stdin.destroy();
    return this.broken;
  }

  private ask(request: Request, timeoutMs = this.options.callTimeoutMs): Promise<unknown> {
    if (this.broken) return Promise.reject(this.broken);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(this.fail(`${request.op}: no answer after ${timeoutMs + MARGIN_MS} ms`)), timeoutMs + MARGIN_MS);
      const done = <T>(settle: (value: T) => void) => (value: T) => {
        clearTimeout(timer);
        settle(value);
      };
      this.pending.set(id, { op: request.op, resolve: done(resolve), reject: done(reject) });
      this.child.stdin.write(`${JSON.stringify({ id, ...request })}\n`);
    });
  }

  unitFacts = async (unit: string): Promise<LiveUnitFacts> => (await this.ask({ op: 'unitFacts', unit })) as LiveUnitFacts;
  // The child holds the user's bus: a lost connection ends it (see fail), nothing to reconnect here.
  reconnect = async (): Promise<void> => {
    if (this.broken !== undefined) throw this.broken;
  };
  unitState = async (unit: string): Promise<UnitState> => (await this.ask({ op: 'unitState', unit })) as UnitState;
  resetFailed = async (unit: string): Promise<void> => void (await this.ask({ op: 'resetFailed', unit }));
  restart = async (unit: string): Promise<Job> => (await this.ask({ op: 'restart', unit })) as Job;
  reload = async (unit: string): Promise<Job> => (await this.ask({ op: 'reload', unit })) as Job;
  stop = async (unit: string): Promise<Job> => (await this.ask({ op: 'stop', unit })) as Job;
  start = async (unit: string): Promise<Job> => (await this.ask({ op: 'start', unit })) as Job;
  waitForJob = async (job: Job, timeoutMs: number): Promise<JobCompletion> => (await this.ask({ op: 'waitForJob', job, timeoutMs }, timeoutMs)) as JobCompletion;
  daemonReload = async (): Promise<void> => void (await this.ask({ op: 'daemonReload' }, Math.max(this.options.callTimeoutMs, 90_000)));
  reexecute = async (timeoutMs = 60_000): Promise<void> => void (await this.ask({ op: 'reexecute', timeoutMs }, timeoutMs));
  notify = async (notification: DesktopNotification): Promise<number> => (await this.ask({ op: 'notify', ...notification }, notification.timeoutMs)) as number;

  toManagerPid(pid: number): number | undefined {
    return this.options.process === undefined ? pid : managerPidOf(this.options.process, pid);
  }

  /** Owners of user units come from their cgroups; the user's answer is not asked for. */
  unitByPid(): Promise<string | undefined> {
    return Promise.resolve(undefined);
  }

  close(): void {
    this.fail('closed');
    this.child.stdin.end();
  }
}
