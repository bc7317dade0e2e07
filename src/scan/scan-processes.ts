import { parseCmdline } from './cmdline.js';
import { mayBeInterpreter } from './interpreter.js';
import { mappedFilesOf } from './maps-files.js';
import { formatStatDev, isKernelThread, parseCgroup, parseStat, splitDeleted } from './parse.js';
import { isGone, ProcReadError, ProcReader } from './proc-reader.js';
import { scannerSelf } from './process-view.js';
import type { FileRef, ProcessImage, ScanResult, UnreadableProcess } from '../types/process.js';

export interface ScanOptions {
  /** procfs root: "/proc", or a fixture tree laid out like it. */
  procRoot?: string;
  /** Only these PIDs (default: every PID in procRoot). */
  pids?: number[];
  /** Include restartd's own process (default false). */
  includeSelf?: boolean;
  /** Held files examined per process (default MAX_HELD_FILES_PER_PROCESS); the rest are counted. */
  maxHeldFiles?: number | undefined;
}

/**
 * Reads what every process holds: exe, file mappings with dev:inode, open file descriptors,
 * cwd, root, cgroup, uid and mount namespace. A process that exits mid-scan is skipped and
 * counted; one that can't be read (EACCES) is reported, never fatal.
 */
export async function scanProcesses(options: ScanOptions = {}): Promise<ScanResult> {
  const scan = scanHeldFiles(options);
  const reader = new ProcReader(options.procRoot ?? '/proc', options.maxHeldFiles);
  scan.processes = scan.processes.filter((image) => completeImage(reader, image, scan.unreadable));
  return scan;
}

/**
 * The hot half of a scan: only what matching needs (stat, exe, maps, fds, root identity).
 * uid, cgroup, cwd, root path and mount namespace are left for completeImage, which
 * detectStale calls for the stale processes only.
 */
export function scanHeldFiles(options: ScanOptions = {}): ScanResult {
  const reader = new ProcReader(options.procRoot ?? '/proc', options.maxHeldFiles);
  const self = scannerSelf(reader);
  const part = scanPids(reader, options.pids ?? reader.listPids(), options.includeSelf ? -1 : self.pid);
  return { ...part, self };
}

/** The processes, unreadable entries and vanished count of one batch of PIDs. */
export type ScanPart = Omit<ScanResult, 'self'>;

/**
 * Scans a batch of PIDs (skipping `skipPid`); the unit of work a scan worker takes. `onImage` sees
 * each image as soon as it is read, so the thread that read a process can also match it.
 */
export function scanPids(reader: ProcReader, pids: Iterable<number>, skipPid: number, onImage?: (image: ProcessImage) => void): ScanPart {
  const processes: ProcessImage[] = [];
  const unreadable: UnreadableProcess[] = [];
  let vanished = 0;
  for (const pid of pids) {
    if (pid === skipPid) continue;
    let image: ProcessImage | undefined;
    try {
      image = readProcess(reader, pid, unreadable);
      if (image) processes.push(image);
      else vanished++;
    } catch (error) {
      if (isGone(error)) vanished++;
      else if (error instanceof ProcReadError) unreadable.push({ pid, what: error.what, code: error.code });
      else throw error;
    }
    if (image && onImage) onImage(image);
  }
  return { processes, unreadable, vanished };
}

const UID_LINE = /^Uid:\s+(\d+)/m;

/**
 * Fills what the hot scan left out: uid and cgroup (`parts: 'owner'`, what a report needs), and
 * with 'all' also cwd, root and mount namespace. Returns false when the process is gone; a part
 * that can't be read is reported in `unreadable`.
 */
export function completeImage(reader: ProcReader, image: ProcessImage, unreadable: UnreadableProcess[], parts: 'owner' | 'all' = 'all'): boolean {
  const { pid } = image;
  try {
    const uid = UID_LINE.exec(reader.read(pid, 'status'))?.[1];
    image.uid = uid === undefined ? reader.ownerUid(pid) : Number(uid);
    if (image.kernelThread) return true;
    image.cgroup = parseCgroup(reader.read(pid, 'cgroup'));
  } catch (error) {
    if (isGone(error)) return false;
    if (!(error instanceof ProcReadError)) throw error;
    unreadable.push({ pid, what: error.what, code: error.code });
    return true;
  }
  if (parts === 'owner') return true;
  image.root = reader.tryLink(pid, 'root') ?? null;
  image.mntNs ??= reader.tryLink(pid, 'ns/mnt') ?? null;
  const cwd = reader.tryLink(pid, 'cwd');
  if (cwd !== undefined) {
    const { path, deleted } = splitDeleted(cwd);
    image.cwd = path;
    if (deleted) image.files.push({ path, via: 'cwd', deleted: true });
  }
  return true;
}

function readProcess(reader: ProcReader, pid: number, unreadable: UnreadableProcess[]): ProcessImage | undefined {
  const stat = parseStat(reader.read(pid, 'stat'));
  if (!stat) throw new ProcReadError('stat', 'EINVAL');
  const image: ProcessImage = {
    pid,
    ppid: stat.ppid,
    startTime: stat.startTime,
    comm: stat.comm,
    uid: -1,
    exe: null,
    cwd: null,
    root: null,
    mntNs: null,
    cgroup: [],
    kernelThread: isKernelThread(stat),
    files: [],
  };
  if (image.kernelThread || stat.state === 'Z') return image;
  try {
    readHeldFiles(reader, image);
  } catch (error) {
    if (isGone(error)) return undefined;
    if (!(error instanceof ProcReadError)) throw error;
    unreadable.push({ pid, what: error.what, code: error.code });
  }
  return image;
}

function readHeldFiles(reader: ProcReader, image: ProcessImage): void {
  const { pid } = image;
  const exe = splitDeleted(reader.link(pid, 'exe'));
  const rootId = reader.identity(pid, 'root');
  if (rootId !== undefined) image.rootId = rootId;
  const files = readMappedFiles(reader, pid);
  image.exe = exe.path;
  // Interpreted programs (src/interp) need argv; other processes never pay for reading it.
  const argv = mayBeInterpreter(exe.path) ? readArgv(reader, pid) : undefined;
  if (argv) image.argv = argv;
  const exeMapped = files.find((f) => f.path === exe.path);
  const exeRef: FileRef = { path: exe.path, via: 'exe', deleted: exe.deleted };
  if (exeMapped?.dev !== undefined) exeRef.dev = exeMapped.dev;
  if (exeMapped?.ino !== undefined) exeRef.ino = exeMapped.ino;
  image.files.push(exeRef, ...files);
  // One process with 60,000 deleted mappings or 40,000 fds must not cost the whole scan its time:
  // fds past the cap are counted, not stat'ed.
  let notExamined = readFdFiles(reader, pid, image.files, reader.maxHeldFiles);
  if (image.files.length > reader.maxHeldFiles) {
    notExamined += image.files.length - reader.maxHeldFiles;
    image.files.length = reader.maxHeldFiles;
  }
  if (notExamined > 0) image.heldFilesNotExamined = notExamined;
}


/** /proc/PID/cmdline as data; undefined when it can't be read (gone, or a race with exit). */
function readArgv(reader: ProcReader, pid: number): string[] | undefined {
  try {
    return parseCmdline(reader.readBuffer(pid, 'cmdline'));
  } catch {
    return undefined;
  }
}

/** One FileRef per mapped file (a library maps as several ranges of one inode), parsed from the bytes. */
function readMappedFiles(reader: ProcReader, pid: number): FileRef[] {
  const length = reader.readBytes(pid, 'maps');
  return mappedFilesOf(reader.bytes, length);
}

/** Paths that are never files of installed software (pseudo filesystems). */
const PSEUDO_FS = ['/dev/', '/proc/', '/sys/'];

/** Appends the open files of `pid` while `into` has room for them (`cap`); returns how many more there were. */
function readFdFiles(reader: ProcReader, pid: number, into: FileRef[], cap: number): number {
  let overflow = 0;
  for (const name of reader.list(pid, 'fd')) {
    const target = reader.tryLink(pid, `fd/${name}`);
    if (target === undefined || target.charCodeAt(0) !== 47) continue;
    if (PSEUDO_FS.some((prefix) => target.startsWith(prefix))) continue;
    if (into.length >= cap) {
      overflow++;
      continue;
    }
    const st = reader.statThrough(pid, `fd/${name}`);
    if (st && !st.isFile()) continue;
    const { path, deleted } = splitDeleted(target);
    const ref: FileRef = { path, via: 'fd', deleted, fd: Number(name) };
    if (st) {
      ref.dev = formatStatDev(st.dev);
      ref.ino = st.ino;
      ref.size = st.size;
    }
    into.push(ref);
  }
  return overflow;
}
