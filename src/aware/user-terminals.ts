import { closeSync, constants, fstatSync, openSync, readFileSync, writeSync } from 'node:fs';

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

/** The /dev path of a terminal device number: pseudo-terminals and virtual consoles. */
function ttyPath(dev: number): string | undefined {
  const major = (dev >> 8) & 0xfff;
  const minor = (dev & 0xff) | ((dev >> 12) & 0xfff00);
  if (major >= 136 && major <= 143) return `/dev/pts/${(major - 136) * 256 + minor}`;
  if (major === 4 && minor < 64) return `/dev/tty${minor}`;
  return undefined;
}

/** The terminals the processes run on, once each: device number and path. */
export function terminalsOf(pids: readonly number[], procRoot = '/proc'): Array<{ dev: number; path: string }> {
  const found = new Map<number, string>();
  for (const pid of pids) {
    const dev = ttyOf(pid, procRoot);
    const path = dev === 0 ? undefined : ttyPath(dev);
    if (path !== undefined) found.set(dev, path);
  }
  return [...found].map(([dev, path]) => ({ dev, path }));
}

/**
 * Writes `text` to a user's terminal, as write(1) would: only a character device that is still that
 * terminal (same device number), owned by the user, and open to messages (`mesg y`: group-writable).
 * Never follows a link, never becomes our controlling terminal, never blocks. Returns whether it was written.
 */
export function writeToTerminal(terminal: { dev: number; path: string }, uid: number, text: string): boolean {
  let fd: number;
  try {
    fd = openSync(terminal.path, constants.O_WRONLY | constants.O_NOCTTY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
  } catch {
    return false;
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isCharacterDevice() || stat.rdev !== terminal.dev || stat.uid !== uid || (stat.mode & 0o020) === 0) return false;
    writeSync(fd, text);
    return true;
  } catch {
    return false;
  } finally {
    closeSync(fd);
  }
}
