import type * as z from 'zod';
import { UNKNOWN_SIZE } from '../diff/compare-files.js';
import { RestartdError } from '../errors.js';
import { describeRefusal, readRegular } from '../safe-fs/read-regular.js';
import { ManifestSchema } from './manifest-schema.js';
import type { Generation, GenerationFile } from '../types/generation.js';
import type { ManifestLimits } from './load-generation.js';

function manifestError(path: string, detail: string, cause?: unknown): RestartdError {
  return new RestartdError('BAD_MANIFEST', `manifest ${path}: ${detail}`, { subject: path, cause });
}

// `files[3].sha256` from a zod issue path.
function fieldName(issuePath: readonly PropertyKey[]): string {
  return issuePath.map((key, i) => (typeof key === 'number' ? `[${key}]` : i === 0 ? String(key) : `.${String(key)}`)).join('');
}

function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  const shown = issues.slice(0, 3).map((issue) => (issue.path.length > 0 ? `${fieldName(issue.path)}: ${issue.message}` : issue.message));
  const more = issues.length > 3 ? ` (and ${issues.length - 3} more)` : '';
  return shown.join('; ') + more;
}

/** A manifest bigger than this is refused before it is read (about 300,000 entries). */
const MAX_MANIFEST_BYTES = 64 * 1024 * 1024;

/** More entries than this is refused before validating one (a 500,000-entry manifest cost 404 MB). */
const MAX_MANIFEST_ENTRIES = 200_000;

/** Reads and validates a manifest generation; errors name the file and the field. */
export async function loadManifest(path: string, limits: ManifestLimits = {}): Promise<Generation> {
  const maxBytes = limits.maxBytes ?? MAX_MANIFEST_BYTES;
  const maxEntries = limits.maxEntries ?? MAX_MANIFEST_ENTRIES;
  // A FIFO or device at the path is refused at once; the size is checked before a byte is read.
  const read = readRegular(path, { follow: true, maxBytes });
  if (!read.ok) throw manifestError(path, describeRefusal(read));
  const text = read.bytes.toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw manifestError(path, `not valid JSON: ${error instanceof Error ? error.message : String(error)}`, error);
  }
  const entries = typeof json === 'object' && json !== null && 'files' in json && Array.isArray(json.files) ? json.files.length : 0;
  if (entries > maxEntries) throw manifestError(path, `too many entries (${entries}, at most ${maxEntries}: limits.manifestMaxEntries)`);
  const parsed = ManifestSchema.safeParse(json);
  if (!parsed.success) throw manifestError(path, describeIssues(parsed.error.issues), parsed.error);

  const root = parsed.data.root.replace(/\/+$/, '');
  const files = new Map<string, GenerationFile>();
  for (const entry of parsed.data.files) {
    files.set(entry.path, {
      path: `${root}/${entry.path}`,
      rel: entry.path,
      size: entry.size ?? UNKNOWN_SIZE,
      sha256: entry.sha256.toLowerCase(),
    });
  }
  return { source: 'manifest', path, files };
}
