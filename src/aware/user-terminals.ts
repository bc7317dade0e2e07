import { closeSync, constants, fstatSync, openSync, readFileSync, readlinkSync, writeSync, type Stats } from 'node:fs';

/**
 * A terminal a user may be told on: where restartd opens it (through the root of whoever names it),
 * the name the user knows it by, and its device number when the kernel gave it (a controlling tty).
 */
export interface TerminalCandidate {
  path: string;
  name: string;
  dev?: number;
  /** The process (`/proc/PID`) through whose root `name` is reached, when `path` is under it. */
  process?: string;
}

/** O_PATH (Linux's generic value: x86, arm, riscv, ...): a handle on a file without opening it, so without its driver's open. */
const O_PATH = 0o10000000;
const HANDLE = O_PATH | constants.O_NOFOLLOW;

/** The controlling terminal's device number of a process (/proc/PID/stat field 7); 0 when none. */
function ttyOf(pid: number, procRoot: string): number {
  try {
    const stat = readFileSync(`${procRoot}/${pid}/stat`, 'utf8');
    // comm may hold spaces and parentheses: fields start after the last ")".
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[4] ?? 0);
  } catch {
    return 0;
  }
}

const majorOf = (dev: number): number => (dev >> 8) & 0xfff;
const minorOf = (dev: number): number => (dev & 0xff) | ((dev >> 12) & 0xfff00);

/** Pseudo-terminals (Unix 98 ptys) and virtual consoles: the terminals users log in on. */
function isLoginTerminal(dev: number): boolean {
  const major = majorOf(dev);
  return (major >= 136 && major <= 143) || (major === 4 && minorOf(dev) > 0 && minorOf(dev) < 64);
}

/** The /dev name of a terminal device number: pseudo-terminals and virtual consoles. */
function ttyName(dev: number): string | undefined {
  if (!isLoginTerminal(dev)) return undefined;
  const major = majorOf(dev);
  return major === 4 ? `/dev/tty${minorOf(dev)}` : `/dev/pts/${(major - 136) * 256 + minorOf(dev)}`;
}

/**
 * The terminals the processes run on, once each. Each is opened through the process's own root
 * (`/proc/PID/root`): a process in another mount namespace (a container, the test's sandbox) has
 * ptys of its own devpts, whose numbers mean other terminals here.
 */
export function terminalsOf(pids: readonly number[], procRoot = '/proc'): TerminalCandidate[] {
  const found = new Map<string, TerminalCandidate>();
  for (const pid of pids) {
    const dev = ttyOf(pid, procRoot);
    const name = dev === 0 ? undefined : ttyName(dev);
    if (name === undefined) continue;
    const path = `${procRoot}/${pid}/root${name}`;
    found.set(path, { path, name, dev, process: `${procRoot}/${pid}` });
  }
  return [...found.values()];
}

function isOpen(fd: number | undefined): fd is number {
  return fd !== undefined;
}

function closeAll(fds: ReadonlyArray<number | undefined>): void {
  for (const fd of fds.filter(isOpen)) closeSync(fd);
}

/**
 * A handle (O_PATH) on a candidate, nothing opened yet. A process's terminal is looked up under its
 * root only if the process is in our user namespace: in one of its own (`unshare -Urm`) its user
 * mounts what they like over /dev/pts (a FIFO, a device, a FUSE mount that never answers). The
 * process (/proc/PID) and its root are held before the check, so neither can change under it (a
 * process never climbs back to a parent user namespace; a reused pid is another /proc/PID).
 */
function handleOn(terminal: TerminalCandidate): number | undefined {
  if (terminal.process === undefined) return openSync(terminal.path, HANDLE);
  const held: Array<number | undefined> = [];
  try {
    const process = openSync(terminal.process, O_PATH | constants.O_DIRECTORY);
    held.push(process);
    const root = openSync(`/proc/self/fd/${process}/root`, O_PATH | constants.O_DIRECTORY);
    held.push(root);
    if (readlinkSync(`/proc/self/fd/${process}/ns/user`) !== readlinkSync('/proc/self/ns/user')) return undefined;
    return openSync(`/proc/self/fd/${root}${terminal.name}`, HANDLE);
  } finally {
    closeAll(held);
  }
}

/** A terminal character device (pty or virtual console), still the one named, the user's and open to messages. */
function isTheirs(stat: Stats, terminal: TerminalCandidate, uid: number): boolean {
  if (!stat.isCharacterDevice() || !isLoginTerminal(stat.rdev) || (terminal.dev !== undefined && stat.rdev !== terminal.dev)) return false;
  return stat.uid === uid && (stat.mode & 0o020) !== 0;
}

/**
 * Writes `text` to each of a user's terminals at most once (two names of one device count once), as
 * write(1) would: only a terminal character device (a pty or a virtual console) that is still the
 * one named (same device number, when known), owned by the user, and open to messages (`mesg y`:
 * group-writable). What is named is checked before it is opened (a handle first: opening a FIFO or
 * a device has effects of its own), then opened through that handle. Never follows a last-component
 * link, never becomes our controlling terminal, never blocks. Returns the names of the terminals written to.
 */
export function writeToTerminals(terminals: readonly TerminalCandidate[], uid: number, text: string): string[] {
  const written = new Set<string>();
  const names: string[] = [];
  for (const terminal of terminals) {
    let handle: number | undefined;
    let fd: number | undefined;
    try {
      handle = handleOn(terminal);
      if (handle === undefined) continue;
      const named = fstatSync(handle);
      const identity = `${named.dev}:${named.ino}`;
      if (!isTheirs(named, terminal, uid) || written.has(identity)) continue;
      fd = openSync(`/proc/self/fd/${handle}`, constants.O_WRONLY | constants.O_NOCTTY | constants.O_NONBLOCK);
      const stat = fstatSync(fd);
      if (`${stat.dev}:${stat.ino}` !== identity || !isTheirs(stat, terminal, uid)) continue;
      writeSync(fd, text);
      written.add(identity);
      names.push(terminal.name);
    } catch {
      // Not there, gone meanwhile, or its buffer is full (EAGAIN): not told there.
    } finally {
      closeAll([fd, handle]);
    }
  }
  return names;
}
