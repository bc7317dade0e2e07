import { RestartdError } from '../errors.js';
import { describeRefusal, readRegular } from '../safe-fs/read-regular.js';
import { describeIssues } from './describe-issues.js';
import { ConfigSchema, type Config } from './schema.js';

import { DEFAULT_CONFIG, DEFAULT_CONFIG_PATH } from './paths.js';

export { DEFAULT_CONFIG_PATH };

/** Config files are small; anything bigger is a mistake (or an attack on the parser). */
const MAX_CONFIG_BYTES = 1024 * 1024;

export interface LoadConfigOptions {
  /** Where to look when `path` is not given (tests); defaults to DEFAULT_CONFIG_PATH. */
  defaultPath?: string;
}

/**
 * Reads and validates restartd's config. With no `path` (no `--config`), a missing default file
 * means the defaults; an explicit path must exist. Every failure is a `RestartdError('BAD_CONFIG')`
 * naming the file and the field: `config /etc/restartd/config.json: units[2].action: expected …`.
 */
export async function loadConfig(path?: string, options: LoadConfigOptions = {}): Promise<Config> {
  const file = path ?? options.defaultPath ?? DEFAULT_CONFIG_PATH;
  // A FIFO or a device given as --config is refused at once, and nothing past the limit is read.
  const read = readRegular(file, { follow: true, maxBytes: MAX_CONFIG_BYTES });
  if (!read.ok) {
    if (path === undefined && read.reason === 'unreadable' && read.errno === 'ENOENT') return structuredClone(DEFAULT_CONFIG);
    throw configError(file, describeRefusal(read));
  }
  return parseConfig(read.bytes.toString('utf8'), file);
}

/** Validates config text; `file` names it in errors. */
export function parseConfig(text: string, file: string): Config {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw configError(file, `not valid JSON: ${error instanceof Error ? error.message : String(error)}`, error);
  }
  const parsed = ConfigSchema.safeParse(json, { reportInput: true });
  if (!parsed.success) throw configError(file, describeIssues(parsed.error.issues), parsed.error);
  return parsed.data;
}

/**
 * Validates a config built in code (the library's `config` option) as a file's would be, filling
 * the defaults of what it leaves out; errors name it "config (given to the library)".
 */
export function validateConfig(config: unknown): Config {
  const parsed = ConfigSchema.safeParse(config, { reportInput: true });
  if (!parsed.success) throw configError('(given to the library)', describeIssues(parsed.error.issues), parsed.error);
  return parsed.data;
}

function configError(file: string, detail: string, cause?: unknown): RestartdError {
  return new RestartdError('BAD_CONFIG', `config ${file}: ${detail}`, { subject: file, cause });
}
