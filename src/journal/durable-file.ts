import { closeSync, existsSync, fstatSync, fsyncSync, openSync, readFileSync, readSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { errnoCode } from '../errors.js';

/** Makes a rename or a create in `dir` survive a crash of the machine. */
export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Replaces `path` with `text`: write a temp file, fsync it, rename it over `path`, fsync the dir. */
export function writeFileDurably(path: string, text: string): void {
  const temp = `${path}.tmp-${process.pid}`;
  const fd = openSync(temp, 'w', 0o644);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, path);
  fsyncDir(dirname(path));
}

/** Appends one JSON line to `path` and fsyncs it (and its dir, when the file is new). */
export function appendJsonLine(path: string, value: unknown): void {
  const created = !existsSync(path);
  const fd = openSync(path, 'a+', 0o644);
  try {
    // A kill mid-append leaves a torn last line: end it, so this line stays whole.
    const size = fstatSync(fd).size;
    const last = Buffer.alloc(1);
    const torn = size > 0 && readSync(fd, last, 0, 1, size - 1) === 1 && last[0] !== 0x0a;
    writeSync(fd, `${torn ? '\n' : ''}${JSON.stringify(value)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  if (created) fsyncDir(dirname(path));
}

/**
 * The JSON lines of `path` ([] when it does not exist). A kill during an append can leave a torn
 * last line: it is dropped, as is any line that is not JSON.
 */
export function readJsonLines(path: string): unknown[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return [];
    throw error;
  }
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

/** Parsed JSON of `path`, or undefined when it does not exist or is not JSON. */
export function readJsonFile(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}
