import type { SwitchRequest } from './pending-switch.js';

/**
 * What a package manager tells `restartd hook` through the environment (flags win over these):
 * - RESTARTD_OLD, RESTARTD_NEW: the generations before and after (paths: release dirs, Nix profile
 *   generation links, manifests). apt/dpkg: the manifests the Pre-Invoke snapshot and the
 *   Post-Invoke script wrote; pacman: likewise from PreTransaction/PostTransaction hooks; NixOS:
 *   the previous and new system (the activation script's `/run/current-system` before and after);
 *   OSTree/bootc: the booted and the staged deployment's directories.
 * - RESTARTD_SOURCE: dir | nix | manifest (default: detected from the path).
 * - RESTARTD_LINK: the current/profile link that points at the new generation: with --rollback (or
 *   the config's rollback.on), flipped back to the old one when a restart onto the new one fails.
 * - RESTARTD_SUSPEND (and needrestart's NEEDRESTART_SUSPEND): set and not "0": record the switch,
 *   restart nothing; a later `restartd hook` carries it out.
 */
export interface HookEnv {
  request: Partial<SwitchRequest>;
  suspended: boolean;
  link?: string;
}

const SOURCES = ['dir', 'nix', 'manifest'] as const;

export function readHookEnv(env: Readonly<Record<string, string | undefined>>): HookEnv {
  const set = (name: string): string | undefined => {
    const value = env[name];
    return value === undefined || value === '' ? undefined : value;
  };
  const source = set('RESTARTD_SOURCE');
  const suspend = set('RESTARTD_SUSPEND') ?? set('NEEDRESTART_SUSPEND');
  return {
    request: {
      ...(set('RESTARTD_OLD') === undefined ? {} : { old: set('RESTARTD_OLD') as string }),
      ...(set('RESTARTD_NEW') === undefined ? {} : { new: set('RESTARTD_NEW') as string }),
      ...(source !== undefined && (SOURCES as readonly string[]).includes(source) ? { source: source as SwitchRequest['source'] & string } : {}),
    },
    suspended: suspend !== undefined && suspend !== '0',
    ...(set('RESTARTD_LINK') === undefined ? {} : { link: set('RESTARTD_LINK') as string }),
  };
}
