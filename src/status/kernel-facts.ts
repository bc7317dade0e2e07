import { readdir, readFile } from 'node:fs/promises';
import { release } from 'node:os';
import type { KernelFacts } from '../types/status.js';

/** Where installed kernels leave their modules: the distro's dir, and NixOS' current system. */
export const DEFAULT_MODULES_DIRS: readonly string[] = ['/lib/modules', '/run/current-system/kernel-modules/lib/modules'];

export interface KernelFactOptions {
  /** The /proc to read `sys/kernel/osrelease` from (default /proc). */
  procRoot?: string;
  /** Dirs holding one `<release>/` dir per installed kernel (default DEFAULT_MODULES_DIRS). */
  modulesDirs?: readonly string[];
}

async function runningRelease(procRoot: string): Promise<string | undefined> {
  try {
    const text = (await readFile(`${procRoot}/sys/kernel/osrelease`, 'utf8')).trim();
    if (text !== '') return text;
  } catch {
    // No osrelease: only the real /proc may fall back to uname(2).
  }
  return procRoot === '/proc' ? release() : undefined;
}

async function installedIn(dir: string): Promise<Array<{ release: string; from: string }>> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    // A release dir, or a link to one (NixOS); dotfiles are not releases.
    return entries
      .filter((e) => (e.isDirectory() || e.isSymbolicLink()) && !e.name.startsWith('.'))
      .map((e) => ({ release: e.name, from: dir }));
  } catch {
    // Missing (containers often have none): nothing installed here.
    return [];
  }
}

/** The running kernel and the installed ones. Reads two small things; never fails. */
export async function readKernelFacts(options: KernelFactOptions = {}): Promise<KernelFacts> {
  const procRoot = options.procRoot ?? '/proc';
  const dirs = options.modulesDirs ?? DEFAULT_MODULES_DIRS;
  const [running, ...installed] = await Promise.all([runningRelease(procRoot), ...dirs.map(installedIn)]);
  return { ...(running === undefined ? {} : { running }), installed: installed.flat() };
}
