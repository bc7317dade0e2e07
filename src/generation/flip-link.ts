import { lstatSync, readlinkSync, realpathSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { RestartdError, unlessMissing } from '../errors.js';

/** Where a link points now, resolved; undefined when it is missing or dangling. */
export function linkTarget(link: string): string | undefined {
  return unlessMissing(() => realpathSync(link));
}

/** Whether `link` resolves to the same path as `target`. */
export function pointsAt(link: string, target: string): boolean {
  const now = linkTarget(link);
  return now !== undefined && now === linkTarget(target);
}

/**
 * Points the symlink `link` at `target` atomically, as Nix switches a profile: a new symlink beside
 * it, then a rename over it. A link that was relative stays relative (a release dir's
 * `current -> releases/v1`, a Nix profile's `app -> app-41-link`). Throws (ROLLBACK_FAILED) when
 * `link` is not a symlink: a real file or dir is never replaced.
 */
export function flipLink(link: string, target: string): void {
  let before: string;
  try {
    if (!lstatSync(link).isSymbolicLink()) throw new RestartdError('ROLLBACK_FAILED', `${link} is not a symlink: not flipped`);
    before = readlinkSync(link);
  } catch (error) {
    if (error instanceof RestartdError) throw error;
    throw new RestartdError('ROLLBACK_FAILED', `cannot read the link ${link}: ${(error as Error).message}`);
  }
  const dir = dirname(resolve(link));
  const written = isAbsolute(before) ? resolve(target) : relative(dir, resolve(target));
  const temp = join(dir, `.${basename(link)}.restartd-${process.pid}`);
  try {
    rmSync(temp, { force: true });
    symlinkSync(written, temp);
    renameSync(temp, link);
  } catch (error) {
    rmSync(temp, { force: true });
    throw new RestartdError('ROLLBACK_FAILED', `cannot point ${link} at ${target}: ${(error as Error).message}`);
  }
}
