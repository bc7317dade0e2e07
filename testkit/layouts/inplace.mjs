// layouts/inplace.mjs - dpkg-style: one tree at ROOT/opt/app, changed files replaced in place
// (written to FILE.dpkg-new, then rename(2)d over FILE), so /proc shows the old inodes as
// "(deleted)". Generations are manifests: ROOT/manifest-1.json before, -2.json after.
import { createHash } from 'node:crypto';
import { copyFile, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { buildTree } from '../build.mjs';
import { CHANGED, heldFiles } from '../software.mjs';

export function inplaceLayout(ctx) {
  const app = `${ctx.root}/opt/app`;
  const manifest = (g) => `${ctx.root}/manifest-${g}.json`;
  return {
    launchBase: app,
    generations: { old: manifest(1), new: manifest(2), source: 'manifest' },

    async buildGen1() {
      await buildTree(ctx, app, 1);
      await writeManifest(app, manifest(1));
    },

    async switchToGen2() {
      const stage = `${ctx.tk}/stage-2`; // what the package would unpack
      await buildTree(ctx, stage, 2, { only: CHANGED, linkTree: app });
      for (const rel of CHANGED) {
        await copyFile(`${stage}/${rel}`, `${app}/${rel}.dpkg-new`);
        await rename(`${app}/${rel}.dpkg-new`, `${app}/${rel}`);
      }
      await rm(stage, { recursive: true, force: true });
      await writeManifest(app, manifest(2));
    },

    /** Ground truth by design: the held files generation 2 replaced, as /proc names them. */
    reasons: (role) => heldFiles(role).filter((f) => CHANGED.has(f)).map((f) => `${app}/${f}`).sort(),

    /** From /proc alone: a file is stale iff it is a deleted file of the tree. */
    async staleJudge() {
      return ({ path, deleted }) => deleted && path.startsWith(`${app}/`);
    },
  };
}

/** {"version":1,"root":DIR,"files":[{path,sha256,size}]}: every regular file, sorted by path. */
async function writeManifest(dir, out) {
  const files = [];
  for (const rel of await listFiles(dir)) {
    const data = await readFile(`${dir}/${rel}`);
    files.push({ path: rel, sha256: createHash('sha256').update(data).digest('hex'), size: data.length });
  }
  await writeFile(out, JSON.stringify({ version: 1, root: dir, files }, null, 2) + '\n');
}

async function listFiles(dir, prefix = '') {
  const out = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const rel = prefix + e.name;
    if (e.isDirectory()) out.push(...(await listFiles(`${dir}/${e.name}`, `${rel}/`)));
    else if (e.isFile()) out.push(rel);
  }
  return out.sort();
}
