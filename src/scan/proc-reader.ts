import { closeSync, lstatSync, openSync, readdirSync, readFileSync, readlinkSync, readSync, statSync, type Stats } from 'node:fs';
import { errnoCode } from '../errors.js';

/** A failed read of one /proc entry: the errno, kept as data (races and permissions are normal). */
export class ProcReadError extends Error {
  override name = 'ProcReadError';
  constructor(
    readonly what: string,
    readonly code: string,
  ) {
    super(`${what}: ${code}`);
  }
}

/**
 * /proc files the kernel makes in one go (single_open: the whole text is one seq_file record), so
 * a read that returns less than asked for returned all of it. Not maps: it comes a page at a time.
 */
const ONE_RECORD = new Set(['stat', 'status', 'cgroup']);

function isOneRecord(entry: string): boolean {
  return ONE_RECORD.has(entry) || entry.startsWith('fdinfo/');
}

/** errnos that mean "the process is gone" rather than "you may not look". */
const GONE = new Set(['ENOENT', 'ESRCH']);

export function isGone(error: unknown): boolean {
  return error instanceof ProcReadError && GONE.has(error.code);
}

/** Held files (exe, mappings, fds) examined per process by default; the rest are counted, not judged. */
export const MAX_HELD_FILES_PER_PROCESS = 20_000;

/**
 * Reads one procfs tree. `root` is "/proc" on a live system, or a fixture directory laid out
 * the same way (PID dirs with stat, maps, cgroup files and exe/cwd/root/fd/N symlinks).
 * Reads are synchronous: every /proc read is a few microseconds of kernel work, and the
 * thread-pool hop of an async read costs more than the read itself.
 */
export class ProcReader {
  private buffer = Buffer.allocUnsafe(1 << 20);

  /**
   * `maxHeldFiles`: held files (exe, mappings, fds) examined per process; the rest are counted,
   * not judged (the config's limits.heldFilesPerProcess; default MAX_HELD_FILES_PER_PROCESS).
   */
  constructor(
    readonly root: string = '/proc',
    readonly maxHeldFiles: number = MAX_HELD_FILES_PER_PROCESS,
    /** scanPids reads with the native scan loop when it is built (src/scan/native-scan.ts). */
    readonly native: boolean = true,
  ) {}

  get live(): boolean {
    return this.root === '/proc';
  }

  listPids(): number[] {
    const pids: number[] = [];
    for (const name of readdirSync(this.root)) {
      const c = name.charCodeAt(0);
      if (c >= 48 && c <= 57) {
        const pid = Number(name);
        if (Number.isInteger(pid)) pids.push(pid);
      }
    }
    return pids.sort((a, b) => a - b);
  }

  path(pid: number | 'self', entry: string): string {
    return `${this.root}/${pid}/${entry}`;
  }

  /** Reads a /proc text file into one reused buffer: no fstat (proc files report size 0), no per-read allocation. */
  read(pid: number | 'self', entry: string): string {
    return this.buffer.toString('utf8', 0, this.readBytes(pid, entry));
  }

  /** The buffer readBytes() filled; valid until the next read. */
  get bytes(): Buffer {
    return this.buffer;
  }

  /** Reads a /proc file into `bytes` (no string made); returns its length. */
  readBytes(pid: number | 'self', entry: string): number {
    let fd: number | undefined;
    const oneRecord = isOneRecord(entry);
    try {
      fd = openSync(this.path(pid, entry), 'r');
      let length = 0;
      for (;;) {
        if (length === this.buffer.length) this.buffer = Buffer.concat([this.buffer, Buffer.allocUnsafe(this.buffer.length)]);
        const wanted = this.buffer.length - length;
        const n = readSync(fd, this.buffer, length, wanted, null);
        length += n;
        // A short read of a one-record file is all of it: no second read to see the end.
        if (n === 0 || (oneRecord && n < wanted)) break;
      }
      return length;
    } catch (error) {
      throw new ProcReadError(entry, errnoCode(error) ?? 'EIO');
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }

  readBuffer(pid: number, entry: string): Buffer {
    try {
      return readFileSync(this.path(pid, entry));
    } catch (error) {
      throw new ProcReadError(entry, errnoCode(error) ?? 'EIO');
    }
  }

  link(pid: number | 'self', entry: string): string {
    try {
      return readlinkSync(this.path(pid, entry), 'utf8');
    } catch (error) {
      throw new ProcReadError(entry, errnoCode(error) ?? 'EIO');
    }
  }

  /** Like link(), but undefined when the entry can't be read. */
  tryLink(pid: number | 'self', entry: string): string | undefined {
    try {
      return readlinkSync(this.path(pid, entry), 'utf8');
    } catch {
      return undefined;
    }
  }

  list(pid: number, entry: string): string[] {
    try {
      return readdirSync(this.path(pid, entry));
    } catch (error) {
      throw new ProcReadError(entry, errnoCode(error) ?? 'EIO');
    }
  }

  /** "dev:ino" of what a magic link (root, cwd) points at, or undefined. */
  identity(pid: number | 'self', entry: string): string | undefined {
    const st = this.statThrough(pid, entry);
    return st ? `${st.dev}:${st.ino}` : undefined;
  }

  /** stat() through a magic link (fd/N, map_files/RANGE): the held file itself. */
  statThrough(pid: number | 'self', entry: string): Stats | undefined {
    try {
      return statSync(this.path(pid, entry), { throwIfNoEntry: false });
    } catch {
      return undefined;
    }
  }

  /** The uid that owns /proc/PID (the process's effective uid). */
  ownerUid(pid: number): number {
    try {
      return lstatSync(`${this.root}/${pid}`).uid;
    } catch (error) {
      throw new ProcReadError('uid', errnoCode(error) ?? 'EIO');
    }
  }
}
