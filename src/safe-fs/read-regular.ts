import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { errnoCode } from '../errors.js';

/**
 * How a file someone else controls is opened: never blocking (a FIFO or a tty at the path can't
 * stall the run), never becoming our controlling terminal, and, where the path is the other
 * party's, never following a last-component link.
 */
export function openFlags(follow: boolean): number {
  return constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY | (follow ? 0 : constants.O_NOFOLLOW);
}

export interface OpenRegularOptions {
  /** Follow a symlink at the last component: only for /proc/PID/{fd,exe,map_files} magic links. */
  follow?: boolean;
}

/** Why a file was not read: gone or unreadable (errno), not a regular file, or over the byte limit. */
export type RefusedRead =
  | { ok: false; reason: 'unreadable'; errno: string }
  | { ok: false; reason: 'not-regular'; kind: string }
  | { ok: false; reason: 'too-large'; size: number; limit: number };

export type OpenedRegular = { ok: true; fd: number; stat: Stats } | RefusedRead;

/** Opens `path` defensively and keeps the fd only when fstat says it is a regular file. */
export function openRegular(path: string, options: OpenRegularOptions = {}): OpenedRegular {
  let fd: number;
  try {
    fd = openSync(path, openFlags(options.follow ?? false));
  } catch (error) {
    return { ok: false, reason: 'unreadable', errno: errnoCode(error) ?? 'EIO' };
  }
  try {
    const stat = fstatSync(fd);
    if (stat.isFile()) return { ok: true, fd, stat };
    closeSync(fd);
    return { ok: false, reason: 'not-regular', kind: fileKind(stat) };
  } catch (error) {
    closeSync(fd);
    return { ok: false, reason: 'unreadable', errno: errnoCode(error) ?? 'EIO' };
  }
}

export interface ReadRegularOptions extends OpenRegularOptions {
  /** Refuse (before reading a byte) a file whose size is above this; reads stop here too. */
  maxBytes: number;
}

export type ReadRegular = { ok: true; bytes: Buffer; stat: Stats } | RefusedRead;

/**
 * The whole of a regular file of at most `maxBytes`, opened with openRegular(). A file that grows
 * past the limit while read is refused as well: the read is bounded whatever the size said.
 */
export function readRegular(path: string, options: ReadRegularOptions): ReadRegular {
  const opened = openRegular(path, options);
  if (!opened.ok) return opened;
  const { fd, stat } = opened;
  try {
    if (stat.size > options.maxBytes) return { ok: false, reason: 'too-large', size: stat.size, limit: options.maxBytes };
    const bytes = Buffer.allocUnsafe(Math.min(options.maxBytes + 1, Math.max(stat.size + 1, 4096)));
    let filled = 0;
    for (;;) {
      if (filled === bytes.length) break;
      const n = readSync(fd, bytes, filled, bytes.length - filled, null);
      if (n === 0) break;
      filled += n;
    }
    if (filled > options.maxBytes) return { ok: false, reason: 'too-large', size: filled, limit: options.maxBytes };
    return { ok: true, bytes: bytes.subarray(0, filled), stat };
  } catch (error) {
    return { ok: false, reason: 'unreadable', errno: errnoCode(error) ?? 'EIO' };
  } finally {
    closeSync(fd);
  }
}

/** Reads into `buffer` at `position` until full or end of file; returns the bytes read. */
export function readAt(fd: number, buffer: Buffer, position: number): number {
  let filled = 0;
  while (filled < buffer.length) {
    const n = readSync(fd, buffer, filled, buffer.length - filled, position + filled);
    if (n === 0) break;
    filled += n;
  }
  return filled;
}

/** The refusal in words, for an error message: "is a FIFO, not a regular file", "cannot read (ENOENT)". */
export function describeRefusal(refused: RefusedRead): string {
  if (refused.reason === 'not-regular') return `is a ${refused.kind}, not a regular file`;
  if (refused.reason === 'too-large') return `too large (${refused.size} bytes, at most ${refused.limit})`;
  return `cannot read (${refused.errno})`;
}

function fileKind(stat: Stats): string {
  if (stat.isFIFO()) return 'FIFO';
  if (stat.isSocket()) return 'socket';
  if (stat.isCharacterDevice()) return 'character device';
  if (stat.isBlockDevice()) return 'block device';
  if (stat.isDirectory()) return 'directory';
  if (stat.isSymbolicLink()) return 'symbolic link';
  return 'special file';
}

/** Whose rights a read stands in for: the target process's filesystem uid and its groups. */
export interface Reader {
  uid: number;
  gids: readonly number[];
}

/** Whether `reader` could open a file with `stat` for reading by its mode bits (uid 0 always can). */
export function mayRead(stat: Stats, reader: Reader): boolean {
  if (reader.uid === 0) return true;
  if (stat.uid === reader.uid) return (stat.mode & 0o400) !== 0;
  if (reader.gids.includes(stat.gid)) return (stat.mode & 0o040) !== 0;
  return (stat.mode & 0o004) !== 0;
}
