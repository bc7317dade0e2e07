import type { Dirent } from 'node:fs';
import { lstat, readdir, readlink, realpath, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { RestartdError } from '../errors.js';
import { storeDirOfPath } from '../generation/store-layout.js';
import type { GenerationSourceKind, InstalledGeneration, InstalledSource } from '../types/status.js';

/** Looked at when no source is configured: the NixOS system profile and every OSTree stateroot. */
export const DEFAULT_NIX_PROFILE = '/nix/var/nix/profiles/system';
export const DEFAULT_OSTREE_DEPLOY = '/ostree/deploy';

export interface FindGenerationOptions {
  /** nix: the link naming the booted system (default /run/booted-system). */
  bootedSystem?: string;
  /** deployments: the booted root, matched by device and inode (default /). */
  bootedRoot?: string;
}

const PROFILE_LINK = /^(.+)-(\d+)-link$/;

async function realOrUndefined(path: string): Promise<string | undefined> {
  return realpath(path).catch(() => undefined);
}

async function subdirs(dir: string): Promise<Dirent[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }));
}

// `…/profiles/system` → `system-41-link`, `system-42-link`, …: current is what `system` points to.
async function nixProfile(path: string, options: FindGenerationOptions): Promise<InstalledGeneration[]> {
  const dir = dirname(path);
  const base = basename(path);
  const currentName = basename(await readlink(path));
  const booted = await realOrUndefined(options.bootedSystem ?? '/run/booted-system');
  const links = (await readdir(dir))
    .map((name) => ({ name, match: PROFILE_LINK.exec(name) }))
    .filter(({ match }) => match?.[1] === base)
    .map(({ name, match }) => ({ name, number: Number(match?.[2]) }))
    .sort((a, b) => a.number - b.number);
  return Promise.all(
    links.map(async ({ name, number }) => {
      const linkPath = join(dir, name);
      const generation: InstalledGeneration = { name: String(number), path: linkPath, current: name === currentName };
      if (booted !== undefined) generation.booted = (await realOrUndefined(linkPath)) === booted;
      return generation;
    }),
  );
}

// `current` → `releases/v42`: the generations are the directories beside the target.
async function releaseDir(link: string): Promise<InstalledGeneration[]> {
  const target = await realpath(link);
  const parent = dirname(target);
  return (await subdirs(parent)).map((e) => ({ name: e.name, path: join(parent, e.name), current: join(parent, e.name) === target }));
}

// A dir of trees (OSTree's `deploy/`): booted is the tree whose device and inode are the root's,
// the way ostree finds its booted deployment; current is the booted one.
async function deployments(dir: string, options: FindGenerationOptions): Promise<InstalledGeneration[]> {
  const root = await stat(options.bootedRoot ?? '/').catch(() => undefined);
  const entries = await subdirs(dir);
  return Promise.all(
    entries.map(async (e) => {
      const path = join(dir, e.name);
      const s = await stat(path);
      const booted = root !== undefined && s.dev === root.dev && s.ino === root.ino;
      return { name: e.name, path, current: booted, ...(root === undefined ? {} : { booted }) };
    }),
  );
}

const MAX_LINK_HOPS = 40;

/**
 * What kind of source a path is: a profile link, a `current` link (or a dir holding one), or a dir
 * of trees. A chain of links is followed to the profile it leads to (`~/.nix-profile` →
 * `/nix/var/nix/profiles/default` → `default-2-link`); a link straight into a Nix store
 * (`/run/current-system`) is no source of generations: its neighbours are the whole store.
 */
export async function detectSourceKind(path: string): Promise<{ kind: GenerationSourceKind; path: string }> {
  const s = await lstat(path);
  if (s.isSymbolicLink()) {
    let link = path;
    for (let hop = 0; hop < MAX_LINK_HOPS; hop++) {
      const target = await readlink(link);
      if (PROFILE_LINK.test(basename(target))) return { kind: 'nix-profile', path: link };
      const next = resolve(dirname(link), target);
      if (!(await lstat(next).catch(() => undefined))?.isSymbolicLink()) break;
      link = next;
    }
    const real = await realpath(path);
    if (storeDirOfPath(real) !== undefined) {
      throw new RestartdError('BAD_GENERATION', `${path} leads into a Nix store (${real}), not to a profile: name the profile, e.g. /nix/var/nix/profiles/system`, { subject: path });
    }
    return { kind: 'release-dir', path };
  }
  const current = join(path, 'current');
  if ((await lstat(current).catch(() => undefined))?.isSymbolicLink()) return { kind: 'release-dir', path: current };
  return { kind: 'deployments', path };
}

/**
 * Lists the generations of one source by profile number (nix) or name (release dirs; OSTree's are
 * checksums, so not by age), marking the
 * current one and, when knowable, the booted one. Raises the fs error when the path is unusable.
 */
export async function listGenerations(path: string, options: FindGenerationOptions = {}): Promise<InstalledSource> {
  const detected = await detectSourceKind(path);
  const generations =
    detected.kind === 'nix-profile'
      ? await nixProfile(detected.path, options)
      : detected.kind === 'release-dir'
        ? await releaseDir(detected.path)
        : await deployments(detected.path, options);
  return { kind: detected.kind, path, generations };
}

/** The sources present on this machine: the system profile and `/ostree/deploy/<os>/deploy`. */
export async function defaultGenerationPaths(roots: { nixProfile?: string; ostreeDeploy?: string } = {}): Promise<string[]> {
  const found: string[] = [];
  const profile = roots.nixProfile ?? DEFAULT_NIX_PROFILE;
  if ((await lstat(profile).catch(() => undefined))?.isSymbolicLink()) found.push(profile);
  const deploy = roots.ostreeDeploy ?? DEFAULT_OSTREE_DEPLOY;
  const stateroots = await readdir(deploy, { withFileTypes: true }).catch(() => []);
  for (const os of stateroots) if (os.isDirectory()) found.push(join(deploy, os.name, 'deploy'));
  return found.sort();
}
