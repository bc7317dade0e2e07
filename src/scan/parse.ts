import type { CgroupEntry } from '../types/process.js';

/** The fields of /proc/PID/stat restartd uses. */
export interface ProcStat {
  pid: number;
  comm: string;
  state: string;
  ppid: number;
  flags: number;
  startTime: number;
}

/** PF_KTHREAD in the flags field of /proc/PID/stat. */
const PF_KTHREAD = 0x00200000;

/**
 * Parses /proc/PID/stat. comm may hold spaces and parentheses, so the fields after it
 * are found from the last ")".
 */
export function parseStat(text: string): ProcStat | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  // The fields after comm, split on single spaces: field N is number N - 3 (state is field 3).
  // Only the four used are cut out of the text.
  let state: string | undefined;
  let ppid = Number.NaN;
  let flags = Number.NaN;
  let startTime = Number.NaN;
  let from = close + 2;
  for (let n = 0; n <= 19; n++) {
    const space = text.indexOf(' ', from);
    const to = space < 0 ? text.length : space;
    if (n === 0) state = text.slice(from, to);
    else if (n === 1) ppid = Number(text.slice(from, to));
    else if (n === 6) flags = Number(text.slice(from, to));
    else if (n === 19) startTime = Number(text.slice(from, to));
    if (space < 0) break;
    from = space + 1;
  }
  if (state === undefined || !Number.isFinite(ppid) || !Number.isFinite(startTime)) return undefined;
  return { pid: Number(text.slice(0, open).trim()), comm: text.slice(open + 1, close), state, ppid, flags, startTime };
}

export function isKernelThread(stat: ProcStat): boolean {
  return (stat.flags & PF_KTHREAD) !== 0;
}

/** One line of /proc/PID/maps that names something. */
export interface MapsEntry {
  range: string;
  perms: string;
  dev: string;
  ino: number;
  /** The name as printed: for files an absolute path with "\012" for newlines and maybe " (deleted)". */
  name: string;
}

const DELETED = ' (deleted)';

/**
 * Parses /proc/PID/maps, keeping only entries with a name. The name starts at the first
 * non-space after the inode column (the kernel pads that column); file names are absolute
 * paths, so a name can't start with a space.
 */
export function parseMaps(text: string): MapsEntry[] {
  const entries: MapsEntry[] = [];
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const entry = parseMapsLine(text, start, end);
    if (entry) entries.push(entry);
    start = end + 1;
  }
  return entries;
}

function parseMapsLine(text: string, start: number, end: number): MapsEntry | undefined {
  const s1 = text.indexOf(' ', start);
  const s2 = text.indexOf(' ', s1 + 1);
  const s3 = text.indexOf(' ', s2 + 1);
  const s4 = text.indexOf(' ', s3 + 1);
  const s5 = text.indexOf(' ', s4 + 1);
  if (s1 < 0 || s5 < 0 || s5 >= end) return undefined;
  let nameStart = s5 + 1;
  while (nameStart < end && text.charCodeAt(nameStart) === 32) nameStart++;
  if (nameStart >= end) return undefined;
  return {
    range: text.slice(start, s1),
    perms: text.slice(s1 + 1, s2),
    dev: text.slice(s3 + 1, s4),
    ino: Number(text.slice(s4 + 1, s5)),
    name: text.slice(nameStart, end),
  };
}

/** Splits a /proc path name into the path and the kernel's "(deleted)" marker. */
export function splitDeleted(name: string): { path: string; deleted: boolean } {
  if (name.endsWith(DELETED)) return { path: name.slice(0, -DELETED.length), deleted: true };
  return { path: name, deleted: false };
}

/** /proc/PID/maps escapes a newline in a path as "\012". */
export function unescapeMapsPath(path: string): string {
  return path.includes('\\012') ? path.replaceAll('\\012', '\n') : path;
}

/** Parses /proc/PID/cgroup: "hierarchy-ID:controller-list:cgroup-path" per line (v1 and v2). */
export function parseCgroup(text: string): CgroupEntry[] {
  const entries: CgroupEntry[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const a = line.indexOf(':');
    const b = line.indexOf(':', a + 1);
    if (a < 0 || b < 0) continue;
    entries.push({ hierarchy: line.slice(0, a), controllers: line.slice(a + 1, b), path: line.slice(b + 1) });
  }
  return entries;
}

/** Access mode from the "flags:" line of /proc/PID/fdinfo/N (octal): true when opened for writing. */
export function fdinfoWritable(text: string): boolean {
  const match = /^flags:\s*([0-7]+)/m.exec(text);
  if (!match?.[1]) return false;
  const accmode = Number.parseInt(match[1], 8) & 3;
  return accmode === 1 || accmode === 2;
}

/** Splits a "major:minor" device string from maps (hex) into numbers. */
export function parseMapsDev(dev: string): { major: number; minor: number } | undefined {
  const colon = dev.indexOf(':');
  if (colon < 0) return undefined;
  const major = Number.parseInt(dev.slice(0, colon), 16);
  const minor = Number.parseInt(dev.slice(colon + 1), 16);
  return Number.isFinite(major) && Number.isFinite(minor) ? { major, minor } : undefined;
}

/** Formats a stat() st_dev (glibc encoding) the way maps prints devices: "fd:01". */
export function formatStatDev(dev: number): string {
  let text = devCache.get(dev);
  if (text === undefined) {
    text = formatDev(dev);
    devCache.set(dev, text);
  }
  return text;
}

const devCache = new Map<number, string>();

function formatDev(dev: number): string {
  const big = BigInt(dev);
  const major = Number(((big >> 8n) & 0xfffn) | ((big >> 32n) & ~0xfffn));
  const minor = Number((big & 0xffn) | ((big >> 12n) & ~0xffn));
  return `${major.toString(16).padStart(2, '0')}:${minor.toString(16).padStart(2, '0')}`;
}

/** The supplementary groups in /proc/PID/status text (its `Groups:` line; none when it is empty). Pure. */
export function groupsIn(statusText: string): number[] | undefined {
  return /^Groups:([ \d]*)$/m.exec(statusText)?.[1]?.trim().split(/\s+/).filter(Boolean).map(Number);
}
