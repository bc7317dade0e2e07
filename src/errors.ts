import { getSystemErrorName } from 'node:util';

/** Every error restartd raises carries a literal code and names its subject. */
export type RestartdErrorCode =
  | 'BAD_INPUT'
  | 'BAD_MANIFEST'
  | 'BAD_GENERATION'
  | 'BAD_CONFIG'
  | 'NIX_STORE'
  | 'SCAN_FAILED'
  | 'USAGE'
  /** The D-Bus connection failed or a call got no answer. */
  | 'BUS'
  /** systemd answered a call with an error. */
  | 'SYSTEMD'
  /** A job's JobRemoved did not come in time. */
  | 'JOB_TIMEOUT'
  /** Another restartd run holds the state dir's lock: nothing was done. */
  | 'BUSY'
  /** etcd could not be reached, or no slot came free in time. */
  | 'FLEET'
  /** A rollback to the old generation could not be carried out (the link, a restart onto it). */
  | 'ROLLBACK_FAILED'
  /** The run was stopped (a signal) before it could do its work. */
  | 'ABORTED'
  /** The state dir (or a file in it) is not restartd's own: wrong owner, writable by others, a link, the wrong kind. */
  | 'UNSAFE_STATE'
  /** restartd broke one of its own rules: a bug, reported as one. */
  | 'INTERNAL';

export class RestartdError extends Error {
  override name = 'RestartdError';
  readonly code: RestartdErrorCode;
  /** The file, flag or path the error is about, when there is one. */
  readonly subject: string | undefined;

  constructor(code: RestartdErrorCode, message: string, options: { cause?: unknown; subject?: string } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.subject = options.subject;
  }
}

/** What `read` gives, or undefined when the path it reads does not exist (ENOENT); other errors are thrown. */
export function unlessMissing<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw error;
  }
}

/** errno code of a Node fs error, or undefined. */
export function errnoCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = (error as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

/** An fs error for a message: "does not exist", "cannot be read (EACCES)", else the error's own words. */
export function describeFsError(error: unknown): string {
  const code = error instanceof RestartdError ? undefined : errnoCode(error);
  if (code === 'ENOENT') return 'does not exist';
  if (code !== undefined) return `cannot be read (${code})`;
  return error instanceof Error ? error.message : String(error);
}

/** An errno number as Node names it ("ENOENT"), or "errno N" for one it does not know. */
export function errnoName(errno: number): string {
  try {
    return getSystemErrorName(-errno);
  } catch {
    return `errno ${errno}`;
  }
}
