import { errnoName } from '../errors.js';
import { parseCmdline } from './cmdline.js';
import { mayBeInterpreter } from './interpreter.js';
import { mappedFilesOf } from './maps-files.js';
import { formatStatDev, isKernelThread, parseCgroup, parseStat, splitDeleted } from './parse.js';
import { F, FAIL, FD_FIELDS, H, HEADER, mntNsRead, NATIVE_BATCH, nativeScan } from './native-scan.js';
import { isGone, ProcReadError, ProcReader } from './proc-reader.js';
import { mntNsOf, scannerSelf } from './process-view.js';
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
  /** Read /proc with the native scan loop when it is built (default true); same result either way. */
  native?: boolean | undefined;
}

/**
 * Reads what every process holds: exe, file mappings with dev:inode, open file descriptors,
 * cwd, root, cgroup, uid and mount namespace. A process that exits mid-scan is skipped and
 * counted; one that can't be read (EACCES) is reported, never fatal.
 */
export async function scanProcesses(options: ScanOptions = {}): Promise<ScanResult> {
  const scan = scanHeldFiles(options);
  const reader = new ProcReader(options.procRoot ?? '/proc', options.maxHeldFiles, options.native);
  scan.processes = scan.processes.filter((image) => completeImage(reader, image, scan.unreadable));
  return scan;
}

/**
 * The hot half of a scan: only what matching needs (stat, exe, maps, fds, root identity).
 * uid, cgroup, cwd, root path and mount namespace are left for completeImage, which
 * detectStale calls for the stale processes only.
 */
export function scanHeldFiles(options: ScanOptions = {}): ScanResult {
  const reader = new ProcReader(options.procRoot ?? '/proc', options.maxHeldFiles, options.native);
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
  const part: ScanPart = { processes: [], unreadable: [], vanished: 0 };
  const addon = reader.native ? nativeScan() : undefined;
  if (addon === undefined) {
    for (const pid of pids) if (pid !== skipPid) take(part, pid, () => readProcess(reader, pid, part.unreadable), onImage);
    return part;
  }
  for (const batch of batchesOf(pids, skipPid)) {
    let read: [Buffer, Float64Array];
    try {
      read = addon.readBatch(reader.root, batch, reader.maxHeldFiles);
    } catch {
      // The loop itself failed (out of memory, a proc root it cannot open): this batch is read here.
      for (const pid of batch) take(part, pid, () => readProcess(reader, pid, part.unreadable), onImage);
      continue;
    }
    const [bytes, meta] = read;
    let at = 0;
    for (const pid of batch) {
      const record = at;
      at += HEADER + FD_FIELDS * (meta[record + H.fdCount] as number);
      take(part, pid, () => fromNative(reader, bytes, meta, record, part.unreadable), onImage);
    }
  }
  return part;
}

/** Reads one process into `part` (a gone one is counted, an unreadable one reported). */
function take(part: ScanPart, pid: number, read: () => ProcessImage | undefined, onImage: ((image: ProcessImage) => void) | undefined): void {
  let image: ProcessImage | undefined;
  try {
    image = read();
    if (image) part.processes.push(image);
    else part.vanished++;
  } catch (error) {
    if (isGone(error)) part.vanished++;
    else if (error instanceof ProcReadError) part.unreadable.push({ pid, what: error.what, code: error.code });
    else throw error;
  }
  if (image && onImage) onImage(image);
}

function* batchesOf(pids: Iterable<number>, skipPid: number): Generator<Int32Array> {
  let batch: number[] = [];
  for (const pid of pids) {
    if (pid === skipPid) continue;
    batch.push(pid);
    if (batch.length === NATIVE_BATCH) {
      yield Int32Array.from(batch);
      batch = [];
    }
  }
  if (batch.length > 0) yield Int32Array.from(batch);
}

/**
 * readProcess from what the native loop read (see native-scan.ts): the same parsers on the same
 * bytes, and the same partial image when a read failed. Where the native loop stopped earlier
 * than readProcess would (it could not tell a kernel thread), the process is read here instead.
 */
function fromNative(reader: ProcReader, bytes: Buffer, meta: Float64Array, at: number, unreadable: UnreadableProcess[]): ProcessImage | undefined {
  const num = (field: number): number => meta[at + field] as number;
  const pid = num(H.pid);
  const text = (off: number, len: number): string => bytes.toString('utf8', off, off + len);
  const failed = (what: string): ProcReadError => new ProcReadError(what, errnoName(num(H.errno)));
  if (num(H.fail) === FAIL.stat) throw failed('stat');
  const { image, whole } = imageOf(pid, text(num(H.statOff), num(H.statLen)));
  if (whole) return image;
  if (num(H.readPastStat) === 0) return readProcess(reader, pid, unreadable);
  try {
    if (num(H.fail) === FAIL.exe) throw failed('exe');
    const exe = splitDeleted(text(num(H.exeOff), num(H.exeLen)));
    if (num(H.rootOk) === 1) image.rootId = `${num(H.rootDev)}:${num(H.rootIno)}`;
    mntNsRead.set(image, num(H.nsLen) < 0 ? null : text(num(H.nsOff), num(H.nsLen)));
    if (num(H.fail) === FAIL.maps) throw failed('maps');
    const files = mappedFilesOf(bytes, num(H.mapsOff) + num(H.mapsLen), num(H.mapsOff));
    // The native loop sized the fds' room by its count of mapped files: a maps it could not
    // reduce the same way is read here (never seen from a real kernel).
    if (files.length !== num(H.mapsCount)) return readProcess(reader, pid, unreadable);
    withExe(reader, image, exe, files);
    if (num(H.fail) === FAIL.fd) throw failed('fd');
    for (let i = 0, f = at + HEADER; i < num(H.fdCount); i++, f += FD_FIELDS) {
      const { path, deleted } = splitDeleted(text(meta[f + F.off] as number, meta[f + F.len] as number));
      const ref: FileRef = { path, via: 'fd', deleted, fd: meta[f + F.num] as number };
      if (meta[f + F.statOk] === 1) {
        ref.dev = formatStatDev(meta[f + F.dev] as number);
        ref.ino = meta[f + F.ino] as number;
        ref.size = meta[f + F.size] as number;
      }
      image.files.push(ref);
    }
    capHeldFiles(reader, image, num(H.fdOverflow));
  } catch (error) {
    if (isGone(error)) return undefined;
    if (!(error instanceof ProcReadError)) throw error;
    unreadable.push({ pid, what: error.what, code: error.code });
  }
  return image;
}

const UID_LINE = /^Uid:\s+(\d+)/m;

/**
 * Fills what the hot scan left out: uid and cgroup (`parts: 'owner'`, what a report needs), and
 * with 'all' also cwd, root and mount namespace. Returns false when the process is gone; a part
 * that can't be read is reported in `unreadable`.
 */
export function completeImage(reader: ProcReader, image: ProcessImage, unreadable: UnreadableProcess[], parts: 'owner' | 'all' = 'all'): boolean {
  const { pid } = image;
  const read = ownerReads(reader, pid);
  try {
    const uid = UID_LINE.exec(read('status'))?.[1];
    image.uid = uid === undefined ? reader.ownerUid(pid) : Number(uid);
    if (image.kernelThread) return true;
    image.cgroup = parseCgroup(read('cgroup'));
  } catch (error) {
    if (isGone(error)) return false;
    if (!(error instanceof ProcReadError)) throw error;
    unreadable.push({ pid, what: error.what, code: error.code });
    return true;
  }
  if (parts === 'owner') return true;
  image.root = reader.tryLink(pid, 'root') ?? null;
  mntNsOf(reader, image);
  const cwd = reader.tryLink(pid, 'cwd');
  if (cwd !== undefined) {
    const { path, deleted } = splitDeleted(cwd);
    image.cwd = path;
    if (deleted) image.files.push({ path, via: 'cwd', deleted: true });
  }
  return true;
}

/** Reads status and cgroup: with the native loop in one call (the same bytes), else through the reader. */
function ownerReads(reader: ProcReader, pid: number): (entry: 'status' | 'cgroup') => string {
  const addon = reader.native ? nativeScan() : undefined;
  let read: [Buffer, number, number] | undefined;
  try {
    read = addon?.readOwner(reader.root, pid);
  } catch {
    read = undefined;
  }
  if (read === undefined) return (entry) => reader.read(pid, entry);
  const [bytes, statusLength, cgroupLength] = read;
  return (entry) => {
    const length = entry === 'status' ? statusLength : cgroupLength;
    if (length < 0) throw new ProcReadError(entry, errnoName(-length));
    const from = entry === 'status' ? 0 : Math.max(0, statusLength);
    return bytes.toString('utf8', from, from + length);
  };
}

function readProcess(reader: ProcReader, pid: number, unreadable: UnreadableProcess[]): ProcessImage | undefined {
  const { image, whole } = imageOf(pid, reader.read(pid, 'stat'));
  if (whole) return image;
  try {
    readHeldFiles(reader, image);
  } catch (error) {
    if (isGone(error)) return undefined;
    if (!(error instanceof ProcReadError)) throw error;
    unreadable.push({ pid, what: error.what, code: error.code });
  }
  return image;
}

/** The image a stat text starts (nothing held yet); `whole` for a kernel thread or a zombie, which hold nothing to read. */
function imageOf(pid: number, statText: string): { image: ProcessImage; whole: boolean } {
  const stat = parseStat(statText);
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
  return { image, whole: image.kernelThread || stat.state === 'Z' };
}

function readHeldFiles(reader: ProcReader, image: ProcessImage): void {
  const { pid } = image;
  const exe = splitDeleted(reader.link(pid, 'exe'));
  const rootId = reader.identity(pid, 'root');
  if (rootId !== undefined) image.rootId = rootId;
  const files = readMappedFiles(reader, pid);
  withExe(reader, image, exe, files);
  // One process with 60,000 deleted mappings or 40,000 fds must not cost the whole scan its time:
  // fds past the cap are counted, not stat'ed.
  capHeldFiles(reader, image, readFdFiles(reader, pid, image.files, reader.maxHeldFiles));
}

/** The exe (its identity from its mapping), argv for an interpreter, then the mapped files. */
function withExe(reader: ProcReader, image: ProcessImage, exe: { path: string; deleted: boolean }, files: FileRef[]): void {
  image.exe = exe.path;
  // Interpreted programs (src/interp) need argv; other processes never pay for reading it.
  const argv = mayBeInterpreter(exe.path) ? readArgv(reader, image.pid) : undefined;
  if (argv) image.argv = argv;
  const exeMapped = files.find((f) => f.path === exe.path);
  const exeRef: FileRef = { path: exe.path, via: 'exe', deleted: exe.deleted };
  if (exeMapped?.dev !== undefined) exeRef.dev = exeMapped.dev;
  if (exeMapped?.ino !== undefined) exeRef.ino = exeMapped.ino;
  image.files.push(exeRef, ...files);
}

/** Held files past the reader's cap are dropped and counted, with the fds counted past it (`overflow`). */
function capHeldFiles(reader: ProcReader, image: ProcessImage, overflow: number): void {
  let notExamined = overflow;
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
