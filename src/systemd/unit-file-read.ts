import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { errnoCode } from '../errors.js';
import { foldUnitFiles, parseUnitFile, type ParsedUnitFile, type UnitFileWarning } from './unit-file.js';
import { unitKeysFrom, type UnitKeysResult } from './unit-file-keys.js';

/** systemd itself refuses lines over 1 MiB; a unit file this large is not one. */
const MAX_UNIT_FILE_BYTES = 4 * 1024 * 1024;

export interface ReadUnitKeysOptions {
  /**
   * Prefix for every path, to read a manager's files as it sees them: `/proc/<managerPid>/root` for
   * a systemd in its own mount namespace (whose /run/systemd/system is elsewhere on the host).
   */
  rootPrefix?: string;
}

/**
 * The policy's keys of one unit, from its fragment and then its drop-ins in the order given (as
 * systemd reports FragmentPath and DropInPaths; later files override earlier ones). Never throws
 * for a file: one that cannot be read, or a value that does not parse, is a warning naming the
 * file (as the manager names it) and the key, and the key stays unset.
 */
export async function readUnitKeys(
  fragmentPath: string | undefined,
  dropInPaths: readonly string[] = [],
  options: ReadUnitKeysOptions = {},
): Promise<UnitKeysResult> {
  const paths = [fragmentPath, ...dropInPaths].filter((path): path is string => path !== undefined && path !== '');
  const parsed: ParsedUnitFile[] = [];
  const warnings: UnitFileWarning[] = [];
  for (const path of paths) {
    const file = await readUnitFile(path, options.rootPrefix);
    if (typeof file === 'string') {
      warnings.push({ file: path, message: file });
      continue;
    }
    parsed.push(file);
    warnings.push(...file.warnings);
  }
  const result = unitKeysFrom(foldUnitFiles(parsed));
  return { keys: result.keys, warnings: [...warnings, ...result.warnings] };
}

// The parsed file, or why it could not be read.
async function readUnitFile(path: string, rootPrefix: string | undefined): Promise<ParsedUnitFile | string> {
  // A masked unit's fragment: nothing to read.
  if (path === '/dev/null') return parseUnitFile('', path);
  const hostPath = rootPrefix === undefined ? path : join(rootPrefix, path);
  try {
    const info = await stat(hostPath);
    if (!info.isFile()) return 'not a regular file, ignored';
    if (info.size > MAX_UNIT_FILE_BYTES) return `too large (${info.size} bytes), ignored`;
    return parseUnitFile(await readFile(hostPath, 'utf8'), path);
  } catch (error) {
    return `cannot read (${errnoCode(error) ?? String(error)}), ignored`;
  }
}
