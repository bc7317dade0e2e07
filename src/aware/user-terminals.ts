import { closeSync, constants, fstatSync, openSync, readFileSync, writeSync } from 'node:fs';

/**
 * A terminal a user may be told on: where restartd opens it (through the root of whoever names it),
 * the name the user knows it by, and its device number when the kernel gave it (a controlling tty).
 */
export interface TerminalCandidate {
  path: string;
  name: string;
  dev?: number;
}

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
    found.set(path, { path, name, dev });
  }
  return [...found.values()];
}

/**
 * Writes `text` to each of a user's terminals at most once (two names of one device count once), as
 * write(1) would: only a terminal character device (a pty or a virtual console) that is still the
 * one named (same device number, when known), owned by the user, and open to messages (`mesg y`:
 * group-writable). Never follows a last-component link, never becomes our controlling terminal,
 * never blocks. Returns the names of the terminals written to.
 */
export function writeToTerminals(terminals: readonly TerminalCandidate[], uid: number, text: string): string[] {
  const written = new Set<string>();
  const names: string[] = [];
  for (const terminal of terminals) {
    let fd: number;
    try {
      fd = openSync(terminal.path, constants.O_WRONLY | constants.O_NOCTTY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
    } catch {
      continue;
    }
    try {
      const stat = fstatSync(fd);
      const identity = `${stat.dev}:${stat.ino}`;
      if (!stat.isCharacterDevice() || !isLoginTerminal(stat.rdev) || (terminal.dev !== undefined && stat.rdev !== terminal.dev)) continue;
      if (stat.uid !== uid || (stat.mode & 0o020) === 0 || written.has(identity)) continue;
      writeSync(fd, text);
      written.add(identity);
      names.push(terminal.name);
    } catch {
      // Gone meanwhile, or its buffer is full (EAGAIN): not told there.
    } finally {
      closeSync(fd);
    }
  }
  return names;
}
