import { closeSync, constants, existsSync, fstatSync, fsyncSync, openSync, readSync, renameSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { RestartdError, errnoCode } from '../errors.js';
import { describeRefusal, readRegular } from '../safe-fs/read-regular.js';

/** Makes a rename or a create in `dir` survive a crash of the machine. */
export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** A file of restartd's state that is something else (a directory, a link, a FIFO): a named error. */
function notOurs(path: string, detail: string): RestartdError {
  return new RestartdError('UNSAFE_STATE', `state file ${path} ${detail}; nothing was done (fix or remove it)`, { subject: path });
}

// Created here, never through a link someone planted at the name (O_NOFOLLOW, O_EXCL).
const CREATE_NEW = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
const APPEND = constants.O_RDWR | constants.O_CREAT | constants.O_APPEND | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/** State files are small: a journal of a switch with thousands of units stays far below this. */
const MAX_STATE_FILE_BYTES = 64 * 1024 * 1024;

/** Replaces `path` with `text`: write a temp file, fsync it, rename it over `path`, fsync the dir. */
export function writeFileDurably(path: string, text: string): void {
  const temp = `${path}.tmp-${process.pid}`;
  let fd: number;
  try {
    fd = openSync(temp, CREATE_NEW, 0o644);
  } catch (error) {
    if (errnoCode(error) !== 'EEXIST') throw error;
    // Left by a crashed run with our pid, or planted: unlink removes a link itself, never its target.
    unlinkSync(temp);
    fd = openSync(temp, CREATE_NEW, 0o644);
  }
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    if (errnoCode(error) === 'EISDIR' || errnoCode(error) === 'ENOTEMPTY') throw notOurs(path, 'is a directory, not a file');
    throw error;
  }
  fsyncDir(dirname(path));
}

/** Appends one JSON line to `path` and fsyncs it (and its dir, when the file is new). */
export function appendJsonLine(path: string, value: unknown): void {
  const created = !existsSync(path);
  let fd: number;
  try {
    fd = openSync(path, APPEND, 0o644);
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'ELOOP') throw notOurs(path, 'is a symbolic link');
    if (code === 'EISDIR') throw notOurs(path, 'is a directory, not a file');
    throw error;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw notOurs(path, 'is not a regular file');
    // A kill mid-append leaves a torn last line: end it, so this line stays whole.
    const size = st.size;
    const last = Buffer.alloc(1);
    const torn = size > 0 && readSync(fd, last, 0, 1, size - 1) === 1 && last[0] !== 0x0a;
    writeSync(fd, `${torn ? '\n' : ''}${JSON.stringify(value)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  if (created) fsyncDir(dirname(path));
}

/** The text of a state file, undefined when it does not exist; anything but a regular file is a named error. */
function readStateText(path: string): string | undefined {
  const read = readRegular(path, { maxBytes: MAX_STATE_FILE_BYTES });
  if (read.ok) return read.bytes.toString('utf8');
  if (read.reason === 'unreadable' && (read.errno === 'ENOENT' || read.errno === 'EACCES')) return undefined;
  throw notOurs(path, read.reason === 'unreadable' && read.errno === 'ELOOP' ? 'is a symbolic link' : describeRefusal(read));
}

/**
 * The JSON lines of `path` ([] when it does not exist). A kill during an append can leave a torn
 * last line: it is dropped, as is any line that is not JSON.
 */
export function readJsonLines(path: string): unknown[] {
  const text = readStateText(path);
  if (text === undefined) return [];
  const values: unknown[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      values.push(JSON.parse(line));
    } catch {
      // torn by a crash: the action it was about had not been recorded
    }
  }
  return values;
}

/** Parsed JSON of `path`, or undefined when it does not exist or is not JSON (not a file: a named error). */
export function readJsonFile(path: string): unknown {
  const text = readStateText(path);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
