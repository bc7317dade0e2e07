// layouts/dir.mjs - release dirs (like OSTree deployments): ROOT/releases/v1 and v2,
// ROOT/current -> releases/vN flipped atomically. v2 hardlinks every unchanged file of v1,
// except share/static.dat, a byte-identical copy (new inode, same content: still unchanged).
// v1 stays on disk untouched; processes started via ROOT/current show v1's real paths.
import { copyFile, link, mkdir, readFile, rename, stat, symlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { buildTree } from '../build.mjs';
import { CHANGED, FILES, heldFiles } from '../software.mjs';

export const COPIED_NOT_LINKED = 'share/static.dat';

export function dirLayout(ctx) {
  const release = (g) => `${ctx.root}/releases/v${g}`;
  const v1 = release(1);
  const v2 = release(2);
  const flip = async (g) => {
    const tmp = `${ctx.root}/.current.tmp`;
    await symlink(`releases/v${g}`, tmp);
    await rename(tmp, `${ctx.root}/current`);
  };
  return {
    launchBase: `${ctx.root}/current`,
    generations: { old: v1, new: v2, source: 'dir' },

    async buildGen1() {
      await buildTree(ctx, v1, 1);
      await flip(1);
    },

    async switchToGen2() {
      for (const rel of FILES) {
        if (CHANGED.has(rel)) continue;
        await mkdir(dirname(`${v2}/${rel}`), { recursive: true });
        if (rel === COPIED_NOT_LINKED) await copyFile(`${v1}/${rel}`, `${v2}/${rel}`);
        else await link(`${v1}/${rel}`, `${v2}/${rel}`);
      }
      await buildTree(ctx, v2, 2, { only: CHANGED });
      await flip(2);
    },

    /** Ground truth by design: the held files generation 2 changed, as /proc names them (v1's real paths). */
    reasons: (role) => heldFiles(role).filter((f) => CHANGED.has(f)).map((f) => `${v1}/${f}`).sort(),

    /** From disk alone: a v1 file is stale iff v2 lacks it or its content differs. */
    async staleJudge() {
      const memo = new Map();
      const differs = async (rel) => {
        const [a, b] = [`${v1}/${rel}`, `${v2}/${rel}`];
        const [sa, sb] = await Promise.all([stat(a), stat(b).catch(() => undefined)]);
        if (!sb) return true;
        if (sa.dev === sb.dev && sa.ino === sb.ino) return false;
        if (sa.size !== sb.size) return true;
        return !(await readFile(a)).equals(await readFile(b));
      };
      return async ({ path }) => {
        if (!path.startsWith(`${v1}/`)) return false;
        const rel = path.slice(v1.length + 1);
        if (!memo.has(rel)) memo.set(rel, differs(rel));
        return memo.get(rel);
      };
    },
  };
}
