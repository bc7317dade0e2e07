import type { Config } from '../config/schema.js';
import { RestartdError } from '../errors.js';
import { linkTarget } from '../generation/flip-link.js';
import type { RunRequest } from './request.js';
import type { RollbackHow } from './rollback.js';

/**
 * Whether a run may roll back, and how (the config's rollback.command, run instead of a flip; else
 * the link), checked before anything runs. Wanted: `rollback: true` (--rollback), or the config's
 * `rollback.on: "failure"` unless the request says `rollback: false`. Asked for explicitly, it needs
 * both generations and a link that points at the new one, or at the old one (an interrupted rollback
 * flipped it): a clear USAGE error otherwise. Turned on by the config only, a run that cannot roll
 * back (no link, the live scan) goes on without, with a warning.
 */
export function rollbackOption(request: Pick<RunRequest, 'old' | 'new' | 'link' | 'rollback'>, config: Config, warn: (message: string) => void): RollbackHow | undefined {
  const refuse = refusal(request, config, warn);
  if (refuse === undefined) return undefined;
  if (request.old === undefined || request.new === undefined) return refuse('a rollback needs the generations switched between (--old OLD --new NEW)');
  const command = config.rollback?.command;
  if (command !== undefined) return { command };
  if (request.link === undefined) return refuse(NO_LINK);
  // At the old one already: an interrupted rollback flipped it (the re-run finishes the rollback).
  const now = linkTarget(request.link);
  if (now === undefined || (now !== linkTarget(request.new) && now !== linkTarget(request.old))) {
    return refuse(`${request.link} points at ${now ?? 'nothing'}, neither at the new generation ${request.new} nor at the old one`);
  }
  return { link: request.link };
}

const NO_LINK = 'no link to flip back (--link LINK, RESTARTD_LINK: the current/profile link that points at NEW) and no rollback.command in the config';

/**
 * `hook`: whether its pending switches may roll back. The link is checked against each switch's
 * generations when it rolls back (a link that points elsewhere is never flipped).
 */
export function hookRollbackOption(request: Pick<RunRequest, 'link' | 'rollback'>, config: Config, warn: (message: string) => void): RollbackHow | undefined {
  const refuse = refusal(request, config, warn);
  if (refuse === undefined) return undefined;
  const command = config.rollback?.command;
  if (command !== undefined) return { command };
  return request.link === undefined ? refuse(NO_LINK) : { link: request.link };
}

/** How to refuse a rollback asked for (an error) or turned on by the config (a warning); undefined: not wanted. */
function refusal(request: Pick<RunRequest, 'rollback'>, config: Config, warn: (message: string) => void): ((why: string) => undefined) | undefined {
  const explicit = request.rollback === true;
  if (!explicit && (request.rollback === false || config.rollback?.on !== 'failure')) return undefined;
  return (why) => {
    if (explicit) throw new RestartdError('USAGE', `--rollback: ${why}; nothing was done`, { subject: 'rollback' });
    warn(`rollback is on in the config, but ${why}: this run cannot roll back`);
    return undefined;
  };
}
