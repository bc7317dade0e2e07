import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describeIssues } from '../config/describe-issues.js';
import { errnoCode } from '../errors.js';
import { readRegular } from '../safe-fs/read-regular.js';
import { MAX_REGISTRATION_BYTES, RegistrationSchema } from '../types/registration-schema.js';
import type { LoadedRegistration } from '../types/aware.js';

/** The registrations of one dir that passed the file checks and the schema, and the files skipped. */
export interface RegistrationScan {
  registrations: LoadedRegistration[];
  skipped: { file: string; reason: string }[];
}

/**
 * Reads every `*.json` registration in `dir`. A file counts only if the dir is a real directory not
 * writable by group or others, the file is a regular file with one link (opened with O_NOFOLLOW, so
 * a symlink fails to open), at most MAX_REGISTRATION_BYTES, owned by root only in a root-owned dir,
 * and valid per RegistrationSchema. Anything else is skipped with a reason naming the file and the
 * field or check; nothing throws. A missing dir has no registrations.
 */
export async function readRegistrations(dir: string): Promise<RegistrationScan> {
  const scan: RegistrationScan = { registrations: [], skipped: [] };
  let dirUid: number;
  try {
    const info = await lstat(dir);
    if (!info.isDirectory()) return skipAll(scan, dir, `${dir} is not a directory (or is a link)`);
    if ((info.mode & 0o022) !== 0) return skipAll(scan, dir, `${dir} is writable by group or others (mode ${(info.mode & 0o777).toString(8)})`);
    dirUid = info.uid;
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return scan;
    return skipAll(scan, dir, `${dir}: ${errnoCode(error) ?? String(error)}`);
  }
  let names: string[];
  try {
    names = (await readdir(dir)).filter((name) => name.endsWith('.json') && !name.startsWith('.')).sort();
  } catch (error) {
    return skipAll(scan, dir, `${dir}: ${errnoCode(error) ?? String(error)}`);
  }
  for (const name of names) {
    const file = join(dir, name);
    const read = await readRegistrationFile(file, dirUid);
    if ('reason' in read) scan.skipped.push({ file, reason: `${file}: ${read.reason}` });
    else scan.registrations.push(read);
  }
  return scan;
}

/** One registration file, checked as readRegistrations says. */
export async function readRegistrationFile(file: string, dirUid: number): Promise<LoadedRegistration | { reason: string }> {
  // Non-blocking, no link followed, fstat()ed, bounded: a FIFO or a huge file planted in the dir can't stall the run.
  const read = readRegular(file, { maxBytes: MAX_REGISTRATION_BYTES });
  if (!read.ok) {
    if (read.reason === 'not-regular') return { reason: 'is not a regular file' };
    if (read.reason === 'too-large') return { reason: `is larger than ${MAX_REGISTRATION_BYTES} bytes` };
    return { reason: read.errno === 'ELOOP' ? 'is a symbolic link' : `cannot be opened (${read.errno})` };
  }
  const info = read.stat;
  if (info.nlink !== 1) return { reason: `has ${info.nlink} hard links` };
  if (info.uid === 0 && dirUid !== 0) return { reason: `is owned by root in a dir owned by uid ${dirUid}` };
  let json: unknown;
  try {
    json = JSON.parse(read.bytes.toString('utf8'));
  } catch {
    return { reason: 'is not valid JSON' };
  }
  const parsed = RegistrationSchema.safeParse(json, { reportInput: true });
  if (!parsed.success) return { reason: describeIssues(parsed.error.issues) };
  return { file, fileUid: info.uid, registration: parsed.data };
}

function skipAll(scan: RegistrationScan, dir: string, reason: string): RegistrationScan {
  scan.skipped.push({ file: dir, reason });
  return scan;
}
