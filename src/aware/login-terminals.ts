import { readdirSync } from 'node:fs';
import { readRegular } from '../safe-fs/read-regular.js';
import type { TerminalCandidate } from './user-terminals.js';

/** glibc's `struct utmp` on Linux (x86_64, aarch64 and the other 64-bit ABIs alike): 384 bytes. */
export const UTMP_RECORD_BYTES = 384;
const USER_PROCESS = 7;
/** A login record file of more than this many records is not read: no machine has that many logins. */
const MAX_UTMP_RECORDS = 4096;
/** Sessions of logind looked at, and the bytes of one session file. */
const MAX_SESSIONS = 4096;
const MAX_SESSION_BYTES = 64 * 1024;

/** A terminal name as utmp and logind write it ("pts/3", "tty2"), and nothing else (no "..", no "/"-games). */
const TTY_LINE = /^(pts\/\d{1,7}|tty\d{1,2})$/;

export interface UtmpLogin {
  pid: number;
  /** The terminal under /dev ("pts/3"). */
  line: string;
  user: string;
}

function field(bytes: Buffer, start: number, length: number): string {
  const raw = bytes.subarray(start, start + length);
  const end = raw.indexOf(0);
  return raw.subarray(0, end === -1 ? raw.length : end).toString('latin1');
}

/**
 * The logins (USER_PROCESS records) of a utmp file's bytes. Pure. Records are read at their fixed
 * offsets only (ut_type 0, ut_pid 4, ut_line 8..40, ut_user 44..76); a trailing partial record is
 * ignored, and a line that is not a terminal name is dropped (the file is writable by group utmp).
 */
export function parseUtmp(bytes: Buffer): UtmpLogin[] {
  const logins: UtmpLogin[] = [];
  const records = Math.min(Math.floor(bytes.length / UTMP_RECORD_BYTES), MAX_UTMP_RECORDS);
  for (let i = 0; i < records; i++) {
    const at = i * UTMP_RECORD_BYTES;
    if (bytes.readInt16LE(at) !== USER_PROCESS) continue;
    const line = field(bytes, at + 8, 32);
    const user = field(bytes, at + 44, 32);
    if (TTY_LINE.test(line) && user !== '') logins.push({ pid: bytes.readInt32LE(at + 4), line, user });
  }
  return logins;
}

/** A logind session file's UID and TTY (`KEY=VALUE` lines). Pure. */
export function parseSessionFile(text: string): { uid?: number; tty?: string } {
  const values = new Map<string, string>();
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) values.set(line.slice(0, eq), line.slice(eq + 1));
  }
  const uid = values.get('UID');
  const tty = values.get('TTY')?.replace(/^\/dev\//, '');
  return {
    ...(uid !== undefined && /^\d{1,10}$/.test(uid) ? { uid: Number(uid) } : {}),
    ...(tty !== undefined && TTY_LINE.test(tty) ? { tty } : {}),
  };
}

export interface Logins {
  /** logind's sessions with a terminal (/run/systemd/sessions/*). */
  sessions: { uid: number; tty: string }[];
  /** utmp's logins (/run/utmp). */
  utmp: UtmpLogin[];
}

/**
 * Who is logged in on which terminal, under `root` (where the system's /run is: "" for ours,
 * `/proc/PID/root` for a manager in other namespaces): logind's session files and utmp, read once
 * for all users. Bounded reads, never following a last-component link.
 */
export function readLogins(root = ''): Logins {
  const read = readRegular(`${root}/run/utmp`, { maxBytes: MAX_UTMP_RECORDS * UTMP_RECORD_BYTES });
  return { sessions: readSessions(`${root}/run/systemd/sessions`), utmp: read.ok ? parseUtmp(read.bytes) : [] };
}

function readSessions(dir: string): Logins['sessions'] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((entry) => /^[A-Za-z0-9_-]{1,64}$/.test(entry)).slice(0, MAX_SESSIONS);
  } catch {
    return [];
  }
  const sessions: Logins['sessions'] = [];
  for (const entry of names) {
    const read = readRegular(`${dir}/${entry}`, { maxBytes: MAX_SESSION_BYTES });
    if (!read.ok) continue;
    const { uid, tty } = parseSessionFile(read.bytes.toString('utf8'));
    if (uid !== undefined && tty !== undefined) sessions.push({ uid, tty });
  }
  return sessions;
}

/**
 * The terminals a user is logged in on: the TTYs of their logind sessions and their logins in utmp,
 * under `root` (as for readLogins). What is found is only a candidate (see writeToTerminals for the checks).
 */
export function loginTerminals(user: { uid: number; name?: string | undefined }, logins: Logins, root = ''): TerminalCandidate[] {
  const lines = new Set([
    ...logins.sessions.filter((session) => session.uid === user.uid).map((session) => session.tty),
    ...(user.name === undefined ? [] : logins.utmp.filter((login) => login.user === user.name).map((login) => login.line)),
  ]);
  return [...lines].map((line) => ({ path: `${root}/dev/${line}`, name: `/dev/${line}` }));
}
